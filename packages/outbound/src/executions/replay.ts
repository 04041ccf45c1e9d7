import type { OutboundDeps } from "../context.ts";
import { ExecutionStateError, NotFoundError } from "../errors.ts";
import { enqueuePlan } from "../plan/enqueue.ts";
import { withTransaction } from "../tx.ts";

// Seed 000 outbound step 9: replay re-sends failed batches only. In one transaction the
// execution starts a new round (status planning, round + 1) and its failed batches and their
// recipients go back to pending; then the round's plan job makes the templates again from the
// content as planned (finalize deleted them) and adds the round's send flow. A replayed batch
// keeps its unsettled mark, so a call of it whose outcome was unknown is settled against
// LuxSci's sent report before anything is sent. An execution whose planning failed (no
// batches) is planned again from the start.

export async function replayExecution(
  deps: OutboundDeps,
  executionId: number,
): Promise<{ round: number; batches: number }> {
  const started = await withTransaction(deps.pool, async (db) => {
    const execution = await db.query<{ status: string; batches: string }>(
      `SELECT status, (SELECT count(*) FROM batch b WHERE b.execution_id = e.id) AS batches
       FROM execution e WHERE id = $1 FOR UPDATE`,
      [executionId],
    );
    const row = execution.rows[0];
    if (!row) throw new NotFoundError("execution", executionId);
    if (!["partially_failed", "failed"].includes(row.status)) {
      throw new ExecutionStateError(
        executionId,
        row.status,
        "replay (only failed batches of an ended execution)",
      );
    }
    // Failed batches, and any a failed planning left unended (the execution has ended, so
    // nothing is sending them).
    const failed = await db.query<{ id: number; seq: number }>(
      `UPDATE batch SET state = 'pending', error = NULL, template_id = NULL, updated_at = now()
       WHERE execution_id = $1 AND state <> 'sent' RETURNING id, seq`,
      [executionId],
    );
    if (failed.rows.length === 0 && Number(row.batches) > 0) return null;
    await db.query(
      `UPDATE recipient SET state = 'pending'
       WHERE execution_id = $1 AND batch_seq = ANY($2::int[]) AND state = 'failed'`,
      [executionId, failed.rows.map((batch) => batch.seq)],
    );
    const next = await db.query<{ round: number; offer_id: number; channel_id: string }>(
      `UPDATE execution SET status = 'planning', round = round + 1, batches_failed = 0,
         completed_at = NULL, error = NULL, updated_at = now()
       WHERE id = $1 RETURNING round, offer_id, channel_id`,
      [executionId],
    );
    const { round, offer_id, channel_id } = next.rows[0] as {
      round: number;
      offer_id: number;
      channel_id: string;
    };
    const ids = failed.rows.map((batch) => batch.id);
    await db.query(
      `INSERT INTO interaction_log (execution_id, offer_id, channel_id, level, message, data)
       VALUES ($1, $2, $3, 'info', $4, $5)`,
      [
        executionId,
        offer_id,
        channel_id,
        ids.length > 0
          ? `replay round ${round}: ${ids.length} failed batches`
          : `replay round ${round}: planning again`,
        JSON.stringify({ round, batchIds: ids }),
      ],
    );
    return { round, batches: ids.length };
  });
  if (!started) return { round: 0, batches: 0 };
  await enqueuePlan(deps, executionId, started.round);
  deps.logger.info({ executionId, ...started }, "execution replay started");
  return started;
}
