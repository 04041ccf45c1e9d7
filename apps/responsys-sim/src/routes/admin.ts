import type { FastifyInstance, FastifyReply } from "fastify";
import { parseFaultRule } from "../faults.ts";
import { ADMIN_PATH, parseRateLimits } from "../options.ts";
import type { SimState } from "../state.ts";

// /__sim/* on the login host: no auth (a test tool, bound to loopback by default). JSON in,
// JSON out; a bad value answers 400 naming the field.

function jsonBody(body: unknown): Record<string, unknown> {
  if (!Buffer.isBuffer(body) || body.length === 0) return {};
  return JSON.parse(body.toString("utf8")) as Record<string, unknown>;
}

function badRequest(reply: FastifyReply, error: unknown) {
  return reply.code(400).send({ error: error instanceof Error ? error.message : String(error) });
}

/** The admin view of the limits: every function's limit (null = none) and the status. */
export function rateLimitSettings(state: SimState) {
  return { limits: { ...state.limiter.limits }, status: state.limiter.status };
}

export function applyRateLimits(state: SimState, body: Record<string, unknown>) {
  if (body.status !== undefined) {
    if (body.status !== 401 && body.status !== 429) throw new Error("status must be 401 or 429");
    state.limiter.status = body.status;
  }
  if (body.limits !== undefined) {
    const limits = body.limits as Record<string, unknown>;
    const parsed = parseRateLimits(limits);
    for (const name of Object.keys(limits)) {
      const key = name as keyof typeof parsed;
      if (parsed[key] === undefined) delete state.limiter.limits[key];
      else state.limiter.limits[key] = parsed[key];
    }
  }
  return rateLimitSettings(state);
}

export function registerAdminRoutes(app: FastifyInstance, state: SimState): void {
  app.get(`${ADMIN_PATH}/ledger`, async (request) => {
    const query = request.query as Record<string, string | undefined>;
    const campaign = query.campaign;
    return {
      ...state.ledger.summary(),
      ...(campaign === undefined
        ? {}
        : { entries: state.ledger.entries.filter((entry) => entry.campaign === campaign) }),
    };
  });

  app.get(`${ADMIN_PATH}/ledger/duplicates`, async () => state.ledger.duplicates());

  app.get(`${ADMIN_PATH}/lists`, async () =>
    state.accountLists.flatMap((lists, accountIndex) =>
      [...lists.lists.values()].map((list) => ({
        accountIndex,
        listName: list.name,
        size: list.size,
      })),
    ),
  );

  app.get(`${ADMIN_PATH}/lists/:listName/members`, async (request) => {
    const { listName } = request.params as { listName: string };
    const query = request.query as Record<string, string | undefined>;
    const list = state.accountLists[Number(query.account ?? 0)]?.get(listName, false);
    return list ? [...list.records.values()] : [];
  });

  app.get(`${ADMIN_PATH}/faults`, async () => state.faults.list());
  app.post(`${ADMIN_PATH}/faults`, async (request, reply) => {
    try {
      const body = JSON.parse(String(request.body ?? "{}")) as unknown;
      const rules = (Array.isArray(body) ? body : [body]).map(parseFaultRule);
      for (const rule of rules) state.faults.set(rule);
      return state.faults.list();
    } catch (error) {
      return badRequest(reply, error);
    }
  });
  app.delete(`${ADMIN_PATH}/faults`, async () => {
    state.faults.clear();
    return [];
  });

  app.get(`${ADMIN_PATH}/rate-limits`, async () => rateLimitSettings(state));
  app.post(`${ADMIN_PATH}/rate-limits`, async (request, reply) => {
    try {
      return applyRateLimits(state, jsonBody(request.body));
    } catch (error) {
      return badRequest(reply, error);
    }
  });

  app.post(`${ADMIN_PATH}/merge-failures`, async (request, reply) => {
    const rate = Number(jsonBody(request.body).rate);
    if (!(rate >= 0 && rate <= 1)) return badRequest(reply, "rate must be between 0 and 1");
    state.mergeFailureRate = rate;
    return { rate };
  });

  app.post(`${ADMIN_PATH}/tokens`, async (request, reply) => {
    const body = jsonBody(request.body);
    if (body.ttlSeconds !== undefined) {
      const ttl = Number(body.ttlSeconds);
      if (!(ttl > 0)) return badRequest(reply, "ttlSeconds must be a positive number");
      state.tokens.ttlSeconds = ttl;
    }
    const expired = body.expireAll === true ? state.tokens.expireAll() : 0;
    return { ttlSeconds: state.tokens.ttlSeconds, expired };
  });

  app.get(`${ADMIN_PATH}/clock`, async () => ({ offsetSeconds: state.clock.offsetMs / 1000 }));
  app.post(`${ADMIN_PATH}/clock`, async (request, reply) => {
    const body = jsonBody(request.body);
    const seconds = Number(body.advanceSeconds);
    if (!Number.isFinite(seconds)) return badRequest(reply, "advanceSeconds must be a number");
    state.clock.offsetMs += seconds * 1000;
    return { offsetSeconds: state.clock.offsetMs / 1000 };
  });

  app.post(`${ADMIN_PATH}/reset`, async () => {
    state.reset();
    return { reset: true };
  });
}
