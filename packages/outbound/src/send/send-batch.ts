import {
  LuxSciAuthError,
  LuxSciRateLimitError,
  LuxSciRequestError,
  LuxSciRetryableError,
  LuxSciValidationError,
} from "@luxrelay/luxsci";
import { UnrecoverableError } from "bullmq";
import type { OutboundDeps } from "../context.ts";
import { LockLostError } from "../errors.ts";
import { chidOf } from "../ids.ts";
import { loadChannel, loadExecution } from "../rows.ts";
import { buildMessages, markRecipientsSent } from "./messages.ts";
import { findAlreadySent } from "./reconcile.ts";

// Seed 000 outbound step 6, one batch per job (DESIGN "Outbound" 5-7). The job carries ids;
// recipients come from PostgreSQL. The batch moves pending -> sending -> sent | failed by
// conditional updates, and a batch that was attempted before is reconciled against LuxSci's
// sent report first, so a retry or a replay never sends anyone twice.

/** How the worker lets a handler steer its job (BullMQ specifics stay in the app). */
export interface SendJobControl {
  /** Attempts already made before this one. */
  attemptsMade: number;
  /** Attempts allowed in all. */
  attempts: number;
  /** 429: pause the send queue for `ms`; returns the error to throw. */
  rateLimit(ms: number): Promise<Error>;
  /** Put this job back for `ms` (execution paused, channel over its rate); returns the error to throw. */
  delay(ms: number): Promise<Error>;
  /** Wait (ms) the channel's rate limit asks for before `calls` more calls, or 0. */
  channelWait?(channelId: string, perMinute: number): Promise<number>;
  /** Renews the job's lock for the call to come; false when the lock has lapsed. */
  ownsLock?(): Promise<boolean>;
}

export interface SendBatchResult {
  batchId: number;
  outcome: "sent" | "skipped" | "cancelled";
  sent: number;
  alreadySent: number;
}

const PAUSED_RECHECK_MS = 2_000;

interface ClaimedBatch {
  id: number;
  seq: number;
  execution_id: number;
  attempts: number;
  sending_at: Date;
  luxsci_template_id: string | null;
}

export async function sendBatch(
  deps: OutboundDeps,
  payload: { executionId: number; batchId: number },
  control: SendJobControl,
): Promise<SendBatchResult> {
  const { batchId, executionId } = payload;
  const log = deps.logger.child({ executionId, batchId });
  const execution = await loadExecution(deps.pool, executionId);
  if (!execution) throw new UnrecoverableError(`execution ${executionId} not found`);
  if (execution.status === "cancelled" || execution.status === "failed") {
    log.info({ status: execution.status }, "execution stopped: batch not sent");
    return { batchId, outcome: "cancelled", sent: 0, alreadySent: 0 };
  }
  if (execution.status === "paused") throw await control.delay(PAUSED_RECHECK_MS);
  const channel = await loadChannel(deps.pool, execution.channelId);
  if (channel.rateLimitPerMinute && control.channelWait) {
    const wait = await control.channelWait(channel.id, channel.rateLimitPerMinute);
    if (wait > 0) throw await control.delay(wait);
  }

  // pending -> sending (or a sending batch taken over); sent and failed batches are left alone.
  const claimed = await deps.pool.query<ClaimedBatch>(
    `UPDATE batch b SET state = 'sending', attempts = b.attempts + 1,
       sending_at = COALESCE(b.sending_at, now()), updated_at = now()
     FROM batch old LEFT JOIN luxsci_template t ON t.id = old.template_id
     WHERE b.id = $1 AND old.id = b.id AND b.state IN ('pending', 'sending')
     RETURNING b.id, b.seq, b.execution_id, old.attempts, b.sending_at, t.luxsci_template_id`,
    [batchId],
  );
  const batch = claimed.rows[0];
  if (!batch) {
    log.info("batch already ended: nothing to send");
    return { batchId, outcome: "skipped", sent: 0, alreadySent: 0 };
  }
  if (!batch.luxsci_template_id) {
    return failBatch(deps, batch, "the batch has no LuxSci template");
  }

  const recipients = await deps.pool.query<{
    id: string;
    email: string;
    chid: string;
    slot_data: Record<string, string> | null;
  }>(
    `SELECT id, email, chid, slot_data FROM recipient
     WHERE execution_id = $1 AND batch_seq = $2 AND state = 'pending' ORDER BY id`,
    [executionId, batch.seq],
  );
  let toSend = recipients.rows;
  const client = deps.luxsci(channel, { forSend: true });
  let alreadySent = 0;
  try {
    if (batch.attempts > 0 && toSend.length > 0) {
      // Attempted before: whatever LuxSci already accepted is recorded, not sent again.
      const found = await findAlreadySent(deps.luxsci(channel), {
        chidPrefix: `${chidOf(executionId, execution.offerId, channel.id, "")}`,
        since: batch.sending_at,
        chids: new Set(toSend.map((r) => r.chid)),
      });
      if (found.size > 0) {
        const done = toSend.filter((r) => found.has(r.chid));
        await markRecipientsSent(
          deps.pool,
          done.map((r) => r.id),
          done.map((r) => found.get(r.chid) as string),
        );
        alreadySent = done.length;
        toSend = toSend.filter((r) => !found.has(r.chid));
        log.warn(
          { alreadySent },
          "batch attempted before: recipients LuxSci already has are not resent",
        );
      }
    }
    if (toSend.length > 0) {
      const messages = buildMessages(
        channel,
        batch.luxsci_template_id,
        toSend.map((r) => ({ email: r.email, chid: r.chid, slots: r.slot_data ?? {} })),
      );
      // A job whose lock lapsed may be running again elsewhere (a stalled job is handed out
      // anew, and that run would not find this one's messages in the sent report yet): only
      // the run that holds the lock, renewed here for the call, sends.
      if (control.ownsLock && !(await control.ownsLock()))
        throw new LockLostError(`batch ${batchId}`);
      // One attempt per call: a retry happens at the job level, after the reconcile above.
      const ids = await client.sendEmail(messages, { maxAttempts: 1 });
      await markRecipientsSent(
        deps.pool,
        toSend.map((r) => r.id),
        ids,
      );
    }
  } catch (error) {
    if (error instanceof LockLostError) {
      log.warn("the job's lock lapsed before its send: left to the run that holds it");
      throw error;
    }
    if (error instanceof LuxSciRateLimitError) {
      log.warn({ retryAfterMs: error.retryAfterMs }, "LuxSci rate limit: send queue paused");
      throw await control.rateLimit(error.retryAfterMs ?? 1000);
    }
    const message = (error as Error).message;
    const retryable =
      error instanceof LuxSciRetryableError || !(error instanceof Error) || isTransient(error);
    if (retryable && control.attemptsMade + 1 < control.attempts) {
      log.warn(
        { attempt: control.attemptsMade + 1, err: message },
        "batch send failed, will retry",
      );
      throw error;
    }
    return failBatch(deps, batch, message);
  }

  const ended = await deps.pool.query(
    `UPDATE batch SET state = 'sent', sent_at = now(), error = NULL, updated_at = now()
     WHERE id = $1 AND state = 'sending'`,
    [batchId],
  );
  if (ended.rowCount) {
    await deps.pool.query(
      "UPDATE execution SET batches_sent = batches_sent + 1, updated_at = now() WHERE id = $1",
      [executionId],
    );
  }
  log.info({ sent: toSend.length, alreadySent }, "batch sent");
  return { batchId, outcome: "sent", sent: toSend.length, alreadySent };
}

/** Known non-retryable classes; anything else unexpected (a bug, a DB error) is retried. */
function isTransient(error: Error): boolean {
  return !(
    error instanceof LuxSciRequestError ||
    error instanceof LuxSciAuthError ||
    error instanceof LuxSciValidationError ||
    error instanceof UnrecoverableError
  );
}

/** The batch ends failed with LuxSci's message kept; the job fails without more retries. */
async function failBatch(deps: OutboundDeps, batch: ClaimedBatch, message: string): Promise<never> {
  const { id: batchId, execution_id: executionId } = batch;
  const ended = await deps.pool.query(
    `UPDATE batch SET state = 'failed', error = $2, updated_at = now()
     WHERE id = $1 AND state = 'sending'`,
    [batchId, message.slice(0, 2000)],
  );
  if (ended.rowCount) {
    await deps.pool.query(
      `UPDATE recipient SET state = 'failed'
       WHERE execution_id = $1 AND batch_seq = $2 AND state = 'pending'`,
      [executionId, batch.seq],
    );
    await deps.pool.query(
      "UPDATE execution SET batches_failed = batches_failed + 1, updated_at = now() WHERE id = $1",
      [executionId],
    );
  }
  deps.logger.error({ executionId, batchId, err: message }, "batch failed");
  throw new UnrecoverableError(message);
}
