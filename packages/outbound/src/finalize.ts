import type { OutboundDeps } from "./context.ts";
import { trackingIdOf } from "./ids.ts";
import { writeLog } from "./log.ts";
import { deleteTemplates, type TemplateRow } from "./plan/templates.ts";
import { loadExecution } from "./rows.ts";

// Seed 000 outbound steps 8-9 (DESIGN "Outbound" 8): runs once every batch job of a round has
// ended. Deletes the execution's (non-realtime) templates at LuxSci, writes the interaction
// log in figures, and sets the execution's final status. Safe to run twice.

export interface FinalizeResult {
  executionId: number;
  status: string;
  batchesSent: number;
  batchesFailed: number;
  templatesDeleted: number;
}

export async function finalizeExecution(
  deps: OutboundDeps,
  payload: { executionId: number; round: number },
): Promise<FinalizeResult> {
  const { executionId } = payload;
  const execution = await loadExecution(deps.pool, executionId);
  if (!execution) throw new Error(`execution ${executionId} not found`);
  const counts = await deps.pool.query<{ state: string; batches: string; recipients: string }>(
    `SELECT b.state, count(*) AS batches, sum(b.recipient_count) AS recipients
     FROM batch b WHERE b.execution_id = $1 GROUP BY b.state`,
    [executionId],
  );
  const byState = Object.fromEntries(
    counts.rows.map((row) => [
      row.state,
      { batches: Number(row.batches), recipients: Number(row.recipients) },
    ]),
  );
  const sentRecipients = await deps.pool.query<{ sent: string; seeds: string }>(
    `SELECT count(*) FILTER (WHERE state = 'sent') AS sent,
            count(*) FILTER (WHERE state = 'sent' AND is_seed) AS seeds
     FROM recipient WHERE execution_id = $1`,
    [executionId],
  );
  const batchesSent = byState.sent?.batches ?? 0;
  const batchesFailed = byState.failed?.batches ?? 0;
  const batchesPending = (byState.pending?.batches ?? 0) + (byState.sending?.batches ?? 0);

  // Templates: deleted once nothing of this execution can still send with them.
  let templatesDeleted = 0;
  if (batchesPending === 0 || execution.status === "cancelled") {
    const templates = await deps.pool.query<TemplateRow>(
      `SELECT id, channel_id AS "channelId", luxsci_template_id AS "luxsciTemplateId"
       FROM luxsci_template WHERE execution_id = $1 AND NOT realtime AND state = 'active'`,
      [executionId],
    );
    templatesDeleted = await deleteTemplates(deps, templates.rows);
  }

  const status =
    execution.status === "cancelled"
      ? "cancelled"
      : batchesFailed === 0
        ? "completed"
        : batchesSent > 0
          ? "partially_failed"
          : "failed";
  await deps.pool.query(
    `UPDATE execution SET status = $2, batches_sent = $3, batches_failed = $4, error = $5,
       completed_at = now(), updated_at = now() WHERE id = $1`,
    [
      executionId,
      status,
      batchesSent,
      batchesFailed,
      batchesFailed > 0
        ? `${batchesFailed} of ${execution.batchesTotal} batches failed: see the batches or run replay`
        : null,
    ],
  );
  const data = {
    round: payload.round,
    batchesTotal: execution.batchesTotal,
    batchesSucceeded: batchesSent,
    batchesFailed,
    batchesNotSent: batchesPending,
    recipientsMerged: Number(sentRecipients.rows[0]?.sent ?? 0),
    recipientsRead: execution.recipientsTotal,
    recipientsSuppressed: execution.recipientsSuppressed,
    recipientsInvalid: execution.recipientsInvalid,
    recipientsDuplicate: execution.recipientsDuplicate,
    seedsSent: Number(sentRecipients.rows[0]?.seeds ?? 0),
    templatesDeleted,
    trackingId: trackingIdOf(executionId, execution.offerId, execution.channelId),
  };
  await writeLog(deps, {
    executionId,
    offerId: execution.offerId,
    channelId: execution.channelId,
    level: status === "completed" || status === "cancelled" ? "info" : "error",
    message: `execution ${status}: ${batchesSent}/${execution.batchesTotal} batches sent, ${batchesFailed} failed, ${data.recipientsMerged} recipients merged, ${templatesDeleted} templates deleted`,
    data,
  });
  deps.logger.info({ executionId, ...data, status }, "execution finalized");
  return { executionId, status, batchesSent, batchesFailed, templatesDeleted };
}
