import type { FastifyInstance } from "fastify";
import { jobView, parseDestination } from "../export.ts";
import { BASE_PATH, type ResolvedAccount } from "../options.ts";
import { REPORT_HEADERS, type ReportKind } from "../reports/headers.ts";
import { parseReportQuery } from "../reports/query.ts";
import { buildRow } from "../reports/rows.ts";
import { pageReport } from "../reports/scan.ts";
import type { SimState } from "../state.ts";
import { RequestError } from "../validate.ts";
import { type CallContext, userCall } from "./context.ts";

// Seed 000 inbound steps 1-3: report pages, the same paths with destination=sftp as async
// exports, and /jobs to watch them.

const SMTP_KINDS: Record<string, ReportKind> = {
  sent: "sent",
  delivery: "delivery",
  opens: "opens",
  clicks: "clicks",
  // Seed 000 step 2 writes `<sent|delivery|clicks|open>`: accept the singular too.
  open: "opens",
};

function report(state: SimState, kind: ReportKind, { account, query }: CallContext) {
  const exporting = query.destination !== undefined && query.destination !== "";
  const parsed = parseReportQuery(query, state.options.trackedHeaders, exporting);
  if (exporting) {
    if (query.destination !== "sftp") throw new RequestError('destination must be "sftp"');
    const job = state.jobs.create(account, kind, parsed, parseDestination(query), () =>
      state.scanContext(account),
    );
    return {
      current_jobs: state.jobs.currentJobs(account.index),
      filename: job.filename,
      max_jobs: state.options.maxJobs,
      job_id: job.jobId,
    };
  }
  const context = state.scanContext(account);
  const { total, refs } = pageReport(kind, parsed, context);
  return {
    matches_total: total,
    matches_returned: refs.length,
    first: parsed.firstRow,
    header: REPORT_HEADERS[kind],
    rows: refs.map((ref) => buildRow(kind, ref, context, account)),
  };
}

function jobs(state: SimState, account: ResolvedAccount) {
  const current = state.jobs.currentJobs(account.index);
  return state.jobs.list(account.index).map((job) => jobView(job, current, state.options.maxJobs));
}

export function registerReportRoutes(app: FastifyInstance, state: SimState): void {
  app.get(
    `${BASE_PATH}/user/:user/report/email/smtp/:kind`,
    userCall(state, (context) => {
      const kind = SMTP_KINDS[context.params.kind as string];
      if (!kind) throw new RequestError(`unknown report ${context.params.kind}`, 404);
      return report(state, kind, context);
    }),
  );
  app.get(
    `${BASE_PATH}/user/:user/report/email/fbl`,
    userCall(state, (context) => report(state, "fbl", context)),
  );
  app.get(
    `${BASE_PATH}/user/:user/jobs`,
    userCall(state, ({ account }) => jobs(state, account)),
  );
}
