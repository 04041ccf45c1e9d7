import type { OutboundDeps } from "./context.ts";
import { trackingIdOf } from "./ids.ts";
import { writeLog } from "./log.ts";
import { deleteTemplates, type TemplateRow } from "./plan/templates.ts";
import { loadExecution } from "./rows.ts";

// Seed 000 outbound steps 8-9: runs once every batch job of a round has ended (the round's
// send jobs are its children). The execution ends in what PostgreSQL says: `completed` only
// when every batch is sent. A batch whose job ended without ending it (the job stalled too
// often, a database error outlived its attempts) ends `failed` here, replayable. Templates are
// deleted at LuxSci; the job retries when that fails, and its last attempt leaves them to the
// hourly template sweep rather than strand the execution. Safe to run twice.

export interface FinalizeResult {
  executionId: number;
  status: string;
  batchesSent: number;
  batchesFailed: number;
  templatesDeleted: number;
}

/** What a batch left unended by its job says, kept on the row for the operator and replay. */
const UNENDED_BATCH_ERROR =
  "its send job ended without sending it (stalled too often or an error outlived its retries); replay sends it";

export async function finalizeExecution(
  deps: OutboundDeps,
  payload: { executionId: number; round: number },
  options: { lastAttempt?: boolean } = {},
): Promise<FinalizeResult> {
  const { executionId } = payload;
  const execution = await loadExecution(deps.pool, executionId);
  if (!execution) throw new Error(`execution ${executionId} not found`);
  const cancelled = execution.status === "cancelled";
  if (
    execution.round !== payload.round ||
    !["sending", "paused", "cancelled"].includes(execution.status)
  ) {
    // A finalize of another round, or of an execution that ended already (a finalize re-added
    // by the reconciler, run twice): the current round's own finalize decides.
    deps.logger.info(
      {
        executionId,
        round: payload.round,
        currentRound: execution.round,
        status: execution.status,
      },
      "finalize: nothing to do",
    );
    return {
      executionId,
      status: execution.status,
      batchesSent: 0,
      batchesFailed: 0,
      templatesDeleted: 0,
    };
  }
  if (execution.status === "paused") {
    // Paused batches put themselves back as delayed jobs, so a finalize can only run paused
    // once all are sent, or when their jobs were lost (the reconciler adds them again).
    const left = await deps.pool.query(
      "SELECT 1 FROM batch WHERE execution_id = $1 AND state IN ('pending', 'sending') LIMIT 1",
      [executionId],
    );
    if (left.rowCount) {
      deps.logger.info({ executionId }, "finalize: paused with batches to send; not ended");
      return {
        executionId,
        status: "paused",
        batchesSent: 0,
        batchesFailed: 0,
        templatesDeleted: 0,
      };
    }
  }
  if (!cancelled) {
    const unended = await deps.pool.query(
      `WITH b AS (
         UPDATE batch SET state = 'failed', error = $2, updated_at = now()
         WHERE execution_id = $1 AND state IN ('pending', 'sending') RETURNING seq
       )
       UPDATE recipient SET state = 'failed'
       WHERE execution_id = $1 AND state = 'pending' AND batch_seq IN (SELECT seq FROM b)`,
      [executionId, UNENDED_BATCH_ERROR],
    );
    if (unended.rowCount)
      deps.logger.warn({ executionId, recipients: unended.rowCount }, "unended batches failed");
  }
  const counts = await deps.pool.query<{ state: string; batches: string }>(
    "SELECT state, count(*) AS batches FROM batch WHERE execution_id = $1 GROUP BY state",
    [executionId],
  );
  const byState = Object.fromEntries(counts.rows.map((row) => [row.state, Number(row.batches)]));
  const sentRecipients = await deps.pool.query<{ sent: string; seeds: string }>(
    `SELECT count(*) FILTER (WHERE state = 'sent') AS sent,
            count(*) FILTER (WHERE state = 'sent' AND is_seed) AS seeds
     FROM recipient WHERE execution_id = $1`,
    [executionId],
  );
  const batchesSent = byState.sent ?? 0;
  const batchesFailed = byState.failed ?? 0;
  const batchesNotSent = (byState.pending ?? 0) + (byState.sending ?? 0);

  // Templates: nothing of this round can send with them any more.
  const templates = await deps.pool.query<TemplateRow>(
    `SELECT id, channel_id AS "channelId", luxsci_template_id AS "luxsciTemplateId"
     FROM luxsci_template WHERE execution_id = $1 AND NOT realtime AND state = 'active'`,
    [executionId],
  );
  const deleted = await deleteTemplates(deps, templates.rows, { keepGoing: true });
  if (deleted.failed.length > 0 && !options.lastAttempt) {
    throw new Error(
      `${deleted.failed.length} templates not deleted at LuxSci: ${deleted.failed[0]?.message}`,
    );
  }

  const status = cancelled
    ? "cancelled"
    : batchesFailed === 0
      ? "completed"
      : batchesSent > 0
        ? "partially_failed"
        : "failed";
  const ended = await deps.pool.query(
    `UPDATE execution SET status = $2, batches_sent = $3, batches_failed = $4, error = $5,
       completed_at = now(), updated_at = now()
     WHERE id = $1 AND round = $6 AND status IN ('sending', 'paused', 'cancelled')`,
    [
      executionId,
      status,
      batchesSent,
      batchesFailed,
      batchesFailed > 0
        ? `${batchesFailed} of ${execution.batchesTotal} batches failed: see the batches or run replay`
        : null,
      payload.round,
    ],
  );
  const data = {
    round: payload.round,
    batchesTotal: execution.batchesTotal,
    batchesSucceeded: batchesSent,
    batchesFailed,
    batchesNotSent,
    recipientsMerged: Number(sentRecipients.rows[0]?.sent ?? 0),
    recipientsRead: execution.recipientsTotal,
    recipientsSuppressed: execution.recipientsSuppressed,
    recipientsInvalid: execution.recipientsInvalid,
    recipientsDuplicate: execution.recipientsDuplicate,
    seedsSent: Number(sentRecipients.rows[0]?.seeds ?? 0),
    templatesDeleted: deleted.deleted,
    templatesLeftForSweep: deleted.failed.length,
    trackingId: trackingIdOf(executionId, execution.offerId, execution.channelId),
  };
  if (!ended.rowCount) {
    // Ended meanwhile by another finalize run (the log is that run's to write).
    return { executionId, status, batchesSent, batchesFailed, templatesDeleted: deleted.deleted };
  }
  await writeLog(deps, {
    executionId,
    offerId: execution.offerId,
    channelId: execution.channelId,
    level: status === "completed" || status === "cancelled" ? "info" : "error",
    message: `execution ${status}: ${batchesSent}/${execution.batchesTotal} batches sent, ${batchesFailed} failed, ${data.recipientsMerged} recipients merged, ${deleted.deleted} templates deleted`,
    data,
  });
  deps.logger.info({ executionId, ...data, status }, "execution finalized");
  return { executionId, status, batchesSent, batchesFailed, templatesDeleted: deleted.deleted };
}
