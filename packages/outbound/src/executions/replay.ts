import type { OutboundDeps } from "../context.ts";
import { ExecutionStateError, NotFoundError } from "../errors.ts";
import { enqueueSendFlow } from "../plan/enqueue.ts";
import { ensureTemplates } from "../plan/templates.ts";
import { compileVariants } from "../plan/variants.ts";
import { withTransaction } from "../tx.ts";

// DESIGN "Outbound" 9: replay re-sends failed batches only. Their recipients go back to
// pending; templates deleted by finalize are made again; the batches keep their attempt
// count, so each is reconciled against LuxSci's sent report before anything is sent.

export async function replayExecution(
  deps: OutboundDeps,
  executionId: number,
): Promise<{ round: number; batches: number }> {
  const { prisma } = deps;
  const execution = await prisma.execution.findUnique({
    where: { id: executionId },
    include: { channel: true, offer: { include: { variants: true } } },
  });
  if (!execution) throw new NotFoundError("execution", executionId);
  if (!["partially_failed", "failed"].includes(execution.status)) {
    throw new ExecutionStateError(
      executionId,
      execution.status,
      "replay (only failed batches of an ended execution)",
    );
  }
  const failed = await prisma.batch.findMany({
    where: { executionId, state: "failed" },
    select: { id: true, seq: true, contentHash: true },
  });
  if (failed.length === 0) return { round: 0, batches: 0 };
  const { channel, offer } = execution;
  const round =
    (await prisma.interactionLog.count({
      where: { executionId, message: { startsWith: "replay" } },
    })) + 1;
  const templates = await ensureTemplates(
    deps,
    deps.luxsci(channel),
    {
      executionId,
      offerId: offer.id,
      channelId: channel.id,
      clientId: channel.clientId,
      secure: channel.secure,
    },
    compileVariants(offer.variants),
    [...new Set(failed.map((batch) => batch.contentHash))],
  );
  const ids = failed.map((batch) => batch.id);
  await withTransaction(deps.pool, async (db) => {
    for (const [contentHash, templateId] of templates) {
      await db.query(
        "UPDATE batch SET template_id = $3 WHERE execution_id = $1 AND content_hash = $2",
        [executionId, contentHash, templateId],
      );
    }
    await db.query(
      `UPDATE batch SET state = 'pending', error = NULL, updated_at = now()
       WHERE id = ANY($1::int[]) AND state = 'failed'`,
      [ids],
    );
    await db.query(
      `UPDATE recipient SET state = 'pending'
       WHERE execution_id = $1 AND batch_seq = ANY($2::int[]) AND state = 'failed'`,
      [executionId, failed.map((batch) => batch.seq)],
    );
    await db.query(
      `UPDATE execution SET status = 'sending', batches_failed = 0, completed_at = NULL,
         error = NULL, updated_at = now() WHERE id = $1`,
      [executionId],
    );
    await db.query(
      `INSERT INTO interaction_log (execution_id, offer_id, channel_id, level, message, data)
       VALUES ($1, $2, $3, 'info', $4, $5)`,
      [
        executionId,
        offer.id,
        channel.id,
        `replay round ${round}: ${ids.length} failed batches`,
        JSON.stringify({ round, batchIds: ids }),
      ],
    );
  });
  await enqueueSendFlow(deps, executionId, ids, round, {
    attempts: channel.apiRetries,
    backoffMs: deps.retryBaseMs,
  });
  return { round, batches: ids.length };
}
