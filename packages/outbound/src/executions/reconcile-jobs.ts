import { isJobLive } from "@luxrelay/jobs";
import type { Job, Queue } from "bullmq";
import type { OutboundDeps } from "../context.ts";
import {
  enqueuePlan,
  enqueueSendFlow,
  finalizeJobId,
  planJobId,
  sendJobId,
} from "../plan/enqueue.ts";

// PostgreSQL is the truth; Redis can be rebuilt from it (docs/reliability.md). An execution
// that is not ended must have the job that moves it on: its plan job while scheduled or
// planning, its round's send job for every batch not ended and the round's finalize job while
// sending or paused. Redis can lose them: a restart without persistence, the AOF `everysec`
// window, an error between the row's commit and the job's add, or "clean"/"obliterate" on the
// dashboard. This finds what is missing and adds it again. Job ids are business keys, so
// adding a job that exists adds nothing, and running this twice (or on two hosts) is safe.

export interface ReconcileReport {
  /** Executions looked at (not ended). */
  executions: number;
  plansAdded: number;
  sendJobsAdded: number;
  finalizesAdded: number;
  /** Execution ids that had something re-added. */
  repaired: number[];
}

interface OpenExecution {
  id: number;
  status: string;
  round: number;
  send_at: Date | null;
  api_retries: number;
}

export async function reconcileExecutionJobs(deps: OutboundDeps): Promise<ReconcileReport> {
  const report: ReconcileReport = {
    executions: 0,
    plansAdded: 0,
    sendJobsAdded: 0,
    finalizesAdded: 0,
    repaired: [],
  };
  const open = await deps.pool.query<OpenExecution>(
    `SELECT e.id, e.status, e.round, e.send_at, c.api_retries
     FROM execution e JOIN channel c ON c.id = e.channel_id
     WHERE e.kind = 'batch' AND e.status IN ('scheduled', 'planning', 'sending', 'paused')
     ORDER BY e.id`,
  );
  for (const execution of open.rows) {
    report.executions += 1;
    const before = report.plansAdded + report.sendJobsAdded + report.finalizesAdded;
    if (execution.status === "scheduled" || execution.status === "planning") {
      await reconcilePlan(deps, execution, report);
    } else {
      await reconcileSendFlow(deps, execution, report);
    }
    if (report.plansAdded + report.sendJobsAdded + report.finalizesAdded > before) {
      report.repaired.push(execution.id);
    }
  }
  if (report.repaired.length > 0) {
    deps.logger.warn(
      report,
      "reconcile: jobs PostgreSQL expects were missing from Redis, re-added",
    );
  }
  return report;
}

async function reconcilePlan(
  deps: OutboundDeps,
  execution: OpenExecution,
  report: ReconcileReport,
): Promise<void> {
  const id = planJobId(execution.id, execution.round);
  if (await isJobLive(deps.queues.plan, id)) return;
  // Re-read: the plan may have moved the execution on since the list was read.
  if (!(await stillIn(deps, execution, ["scheduled", "planning"]))) return;
  await removeEnded(deps.queues.plan, id);
  const delay =
    execution.status === "scheduled" && execution.send_at
      ? execution.send_at.getTime() - Date.now()
      : 0;
  await enqueuePlan(deps, execution.id, execution.round, delay);
  report.plansAdded += 1;
}

async function reconcileSendFlow(
  deps: OutboundDeps,
  execution: OpenExecution,
  report: ReconcileReport,
): Promise<void> {
  const { id: executionId, round } = execution;
  const unended = await deps.pool.query<{ id: number }>(
    `SELECT id FROM batch WHERE execution_id = $1 AND state IN ('pending', 'sending') ORDER BY seq`,
    [executionId],
  );
  const batchIds = unended.rows.map((row) => row.id);
  const finalizeId = finalizeJobId(executionId, round);
  const finalizeLive = await isJobLive(deps.queues.finalize, finalizeId);
  const missing = await missingJobs(
    deps.queues.send,
    batchIds.map((batchId) => sendJobId(batchId, round)),
  );
  if (finalizeLive && missing.length === 0) return;
  if (!(await stillIn(deps, execution, ["sending", "paused"]))) return;
  // A finalize that ended while the execution did not (it ran before the jobs were lost, or
  // failed for good) goes, so the round's flow can be added again under its id.
  if (!finalizeLive) await removeEnded(deps.queues.finalize, finalizeId);
  const absent = new Set(missing);
  const toAdd = finalizeLive
    ? batchIds.filter((batchId) => absent.has(sendJobId(batchId, round)))
    : batchIds;
  await enqueueSendFlow(deps, executionId, toAdd, round, {
    attempts: execution.api_retries,
    backoffMs: deps.retryBaseMs,
  });
  report.sendJobsAdded += missing.length;
  if (!finalizeLive) report.finalizesAdded += 1;
}

async function stillIn(
  deps: OutboundDeps,
  execution: OpenExecution,
  statuses: readonly string[],
): Promise<boolean> {
  const now = await deps.pool.query<{ status: string; round: number }>(
    "SELECT status, round FROM execution WHERE id = $1",
    [execution.id],
  );
  const row = now.rows[0];
  return row !== undefined && row.round === execution.round && statuses.includes(row.status);
}

/** Job states asked at once: an execution of a million recipients has 1000 batches. */
const STATE_CHUNK = 200;

/** The ids, of those given, with no job in Redis at all. */
async function missingJobs(queue: Queue, jobIds: readonly string[]): Promise<string[]> {
  const missing: string[] = [];
  for (let i = 0; i < jobIds.length; i += STATE_CHUNK) {
    const chunk = jobIds.slice(i, i + STATE_CHUNK);
    const states = await Promise.all(chunk.map((id) => queue.getJobState(id)));
    chunk.forEach((id, k) => {
      if (states[k] === "unknown") missing.push(id);
    });
  }
  return missing;
}

/** Removes a completed or failed job so a new one can take its id; a missing one is fine. */
async function removeEnded(queue: Queue, jobId: string): Promise<void> {
  const job: Job | undefined = await queue.getJob(jobId);
  if (!job) return;
  const state = await job.getState();
  if (state === "completed" || state === "failed") await job.remove({ removeChildren: false });
}
