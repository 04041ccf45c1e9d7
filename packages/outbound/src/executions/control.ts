import type { OutboundDeps } from "../context.ts";
import { ExecutionStateError, NotFoundError } from "../errors.ts";
import { planJobId } from "../plan/enqueue.ts";

// Pause, resume and cancel (docs/architecture.md "Outbound" 10). A paused execution's batch jobs
// put themselves back (delayed) until it resumes; a cancelled one's jobs end without sending and
// its finalize still runs to delete templates. Each is a conditional update: a completed
// execution can't be paused, a cancelled one can't resume.

async function transition(
  deps: OutboundDeps,
  executionId: number,
  from: readonly string[],
  to: "paused" | "sending" | "cancelled",
  action: string,
) {
  const updated = await deps.pool.query(
    `UPDATE execution SET status = $2, updated_at = now()
     WHERE id = $1 AND status = ANY($3::execution_status[]) RETURNING id`,
    [executionId, to, from],
  );
  if (updated.rowCount) return;
  const execution = await deps.prisma.execution.findUnique({ where: { id: executionId } });
  if (!execution) throw new NotFoundError("execution", executionId);
  throw new ExecutionStateError(executionId, execution.status, action);
}

export async function pauseExecution(deps: OutboundDeps, executionId: number): Promise<void> {
  await transition(deps, executionId, ["sending", "planning"], "paused", "pause");
}

export async function resumeExecution(deps: OutboundDeps, executionId: number): Promise<void> {
  await transition(deps, executionId, ["paused"], "sending", "resume");
}

export async function cancelExecution(deps: OutboundDeps, executionId: number): Promise<void> {
  await transition(
    deps,
    executionId,
    ["scheduled", "planning", "sending", "paused"],
    "cancelled",
    "cancel",
  );
  // A scheduled execution's plan job is removed; one planning now sees the status and stops.
  const plan = await deps.queues.plan.getJob(planJobId(executionId, 0));
  if (plan && (await plan.isDelayed())) await plan.remove();
  deps.logger.info({ executionId }, "execution cancelled");
}
