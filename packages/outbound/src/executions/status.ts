import type { OutboundDeps } from "../context.ts";
import { NotFoundError } from "../errors.ts";

// `luxrelay status` / GET /executions/{id}: live counts from the rows themselves.

export async function getExecutionStatus(deps: OutboundDeps, executionId: number) {
  const execution = await deps.prisma.execution.findUnique({ where: { id: executionId } });
  if (!execution) throw new NotFoundError("execution", executionId);
  const batches = await deps.pool.query<{ state: string; n: string; recipients: string }>(
    `SELECT state, count(*) AS n, coalesce(sum(recipient_count), 0) AS recipients
     FROM batch WHERE execution_id = $1 GROUP BY state`,
    [executionId],
  );
  const recipients = await deps.pool.query<{ state: string; n: string }>(
    "SELECT state, count(*) AS n FROM recipient WHERE execution_id = $1 GROUP BY state",
    [executionId],
  );
  const count = (rows: { state: string; n: string }[]) =>
    Object.fromEntries(rows.map((row) => [row.state, Number(row.n)]));
  const logs = await deps.prisma.interactionLog.findMany({
    where: { executionId },
    orderBy: { id: "asc" },
    select: { at: true, level: true, message: true, data: true },
  });
  return {
    id: execution.id,
    offerId: execution.offerId,
    channelId: execution.channelId,
    status: execution.status,
    sendAt: execution.sendAt,
    startedAt: execution.startedAt,
    completedAt: execution.completedAt,
    error: execution.error,
    audience: {
      read: execution.recipientsTotal,
      invalid: execution.recipientsInvalid,
      duplicate: execution.recipientsDuplicate,
      suppressed: execution.recipientsSuppressed,
      seeds: execution.seedsSent,
    },
    batches: { total: execution.batchesTotal, ...count(batches.rows) },
    recipients: count(recipients.rows),
    log: logs,
  };
}

export type ExecutionStatusView = Awaited<ReturnType<typeof getExecutionStatus>>;
