import type { FastifyInstance, FastifyReply } from "fastify";
import {
  duplicateKeys,
  ledgerEntries,
  ledgerSummary,
  mergedMessage,
  seedLedger,
  setReportSettings,
  settleEvents,
} from "../admin.ts";
import { parseFaultRule } from "../faults.ts";
import { ADMIN_PATH } from "../options.ts";
import type { SimState } from "../state.ts";

// /__sim/*: no auth (a test tool, bound to loopback by default). JSON in, JSON out.

function list(value: unknown): string[] | undefined {
  if (value === undefined) return undefined;
  const items = Array.isArray(value) ? value : [value];
  return items.flatMap((item) => String(item).split(",")).filter(Boolean);
}

function jsonBody(body: unknown): Record<string, unknown> {
  if (!Buffer.isBuffer(body) || body.length === 0) return {};
  return JSON.parse(body.toString("utf8")) as Record<string, unknown>;
}

export function registerAdminRoutes(app: FastifyInstance, state: SimState): void {
  app.get(`${ADMIN_PATH}/ledger`, async (request) => {
    const query = request.query as Record<string, unknown>;
    const chids = list(query.chid);
    const sendmailIds = list(query.sendmail_id);
    const wantEntries = chids || sendmailIds || query.limit !== undefined;
    return {
      ...ledgerSummary(state),
      ...(query.perChid ? { perChid: Object.fromEntries(state.ledger.countsPerChid()) } : {}),
      ...(wantEntries
        ? {
            entries: ledgerEntries(state, {
              chids,
              sendmailIds,
              offset: Number(query.offset ?? 0),
              limit: Number(query.limit ?? 100),
            }),
          }
        : {}),
    };
  });

  app.get(`${ADMIN_PATH}/ledger/duplicates`, async () => duplicateKeys(state));

  app.get(`${ADMIN_PATH}/messages/:sendmailId`, async (request, reply) => {
    const { sendmailId } = request.params as { sendmailId: string };
    const found = mergedMessage(state, sendmailId);
    if (!found) return reply.code(404).send({ error: `unknown sendmail id ${sendmailId}` });
    return found;
  });

  app.post(`${ADMIN_PATH}/seed`, async (request, reply) => {
    const body = jsonBody(request.body);
    const count = Number(body.count);
    if (!Number.isInteger(count) || count < 1 || count > 5_000_000) {
      return reply.code(400).send({ error: "count must be an integer in 1..5000000" });
    }
    const ids = seedLedger(state, {
      count,
      user: typeof body.user === "string" ? body.user : undefined,
      chidPrefix: typeof body.chidPrefix === "string" ? body.chidPrefix : undefined,
      sentAtMs: typeof body.sentAtMs === "number" ? body.sentAtMs : undefined,
    });
    return { count: ids.length, first: ids[0], last: ids[ids.length - 1] };
  });

  app.get(`${ADMIN_PATH}/faults`, async () => state.faults.list());
  app.post(`${ADMIN_PATH}/faults`, async (request, reply) => {
    try {
      const body = jsonBody(request.body);
      const rules = Array.isArray(body) ? body : [body];
      for (const rule of rules) state.faults.set(parseFaultRule(rule));
      return { faults: state.faults.list() };
    } catch (error) {
      return reply.code(400).send({ error: (error as Error).message });
    }
  });
  app.delete(`${ADMIN_PATH}/faults`, async () => {
    state.faults.clear();
    return { faults: [] };
  });

  app.post(`${ADMIN_PATH}/reset`, async () => {
    state.reset();
    return { reset: true };
  });

  const clockView = () => ({
    nowMs: state.clock.nowMs(),
    offsetMs: state.clock.offsetMs,
    now: new Date(state.clock.nowMs()).toISOString(),
  });
  app.get(`${ADMIN_PATH}/clock`, async () => clockView());
  app.post(`${ADMIN_PATH}/clock`, async (request, reply) => {
    const body = jsonBody(request.body);
    if (typeof body.offsetSeconds === "number") state.clock.offsetMs = body.offsetSeconds * 1000;
    else if (typeof body.advanceSeconds === "number") {
      state.clock.offsetMs += body.advanceSeconds * 1000;
    } else return reply.code(400).send({ error: "give offsetSeconds or advanceSeconds" });
    return clockView();
  });
  // Every event of every message sent so far becomes visible (the clock jumps past them).
  app.post(`${ADMIN_PATH}/events/settle`, async () => {
    settleEvents(state);
    return clockView();
  });

  // Report lag and disorder (reports/settings.ts); both answer every report setting.
  const updateReport = async (
    update: Record<string, unknown>,
    reply: FastifyReply,
  ): Promise<unknown> => {
    try {
      return setReportSettings(state, update);
    } catch (error) {
      return reply.code(400).send({ error: (error as Error).message });
    }
  };
  app.get(`${ADMIN_PATH}/report-lag`, async () => ({ ...state.report }));
  app.post(`${ADMIN_PATH}/report-lag`, async (request, reply) => {
    const body = jsonBody(request.body);
    if (body.ms === undefined) return reply.code(400).send({ error: "give ms" });
    return updateReport({ reportLagMs: body.ms }, reply);
  });
  app.get(`${ADMIN_PATH}/report-disorder`, async () => ({ ...state.report }));
  app.post(`${ADMIN_PATH}/report-disorder`, async (request, reply) => {
    const { futureEventRate, futureEventMs, shuffleReports } = jsonBody(request.body);
    return updateReport({ futureEventRate, futureEventMs, shuffleReports }, reply);
  });

  // The file name of exports requested from now on, as given (a hostile LuxSci); null: seed
  // 000's names.
  const exportFilenameView = () => ({ filename: state.jobs.filenameOverride });
  app.get(`${ADMIN_PATH}/export-filename`, async () => exportFilenameView());
  app.post(`${ADMIN_PATH}/export-filename`, async (request, reply) => {
    const { filename } = jsonBody(request.body);
    if (filename !== null && (typeof filename !== "string" || filename === "")) {
      return reply.code(400).send({ error: "filename must be a non-empty string or null" });
    }
    state.jobs.filenameOverride = filename;
    return exportFilenameView();
  });

  // ?gc=1 collects garbage first when the process runs with --expose-gc (the memory bench).
  app.get(`${ADMIN_PATH}/stats`, async (request) => {
    const { gc } = request.query as { gc?: string };
    if (gc === "1") (globalThis as { gc?: () => void }).gc?.();
    return {
      ledger: ledgerSummary(state),
      templates: state.templates.size,
      memory: process.memoryUsage(),
    };
  });
}
