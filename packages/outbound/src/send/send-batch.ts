import { type LuxSciClient, LuxSciError, LuxSciRateLimitError } from "@luxrelay/luxsci";
import { UnrecoverableError } from "bullmq";
import type { OutboundDeps } from "../context.ts";
import { LockLostError } from "../errors.ts";
import { chidOf } from "../ids.ts";
import { loadChannel, loadExecution } from "../rows.ts";
import { buildMessages, dropHeaderBreaks } from "./messages.ts";
import { markBeforeCall, settleAfterFailedCall, settleUnsettled } from "./settle.ts";

// Seed 000 outbound step 6, one batch per job. The job carries ids; recipients come from
// PostgreSQL. The batch moves pending -> sending -> sent | failed by conditional updates, and
// every send call is settled before anything of the batch is sent again (settle.ts,
// docs/reliability.md), so a retry, a takeover or a replay never sends anyone twice.

/** How the worker lets a handler steer its job (BullMQ and Redis specifics stay in the app). */
export interface SendJobControl {
  /** Attempts already made before this one. */
  attemptsMade: number;
  /** Attempts allowed in all. */
  attempts: number;
  /** Put this job back for `ms` without using an attempt; returns the error to throw. */
  delay(ms: number): Promise<Error>;
  /** Wait (ms) the channel's requests-per-minute limit asks for before one more call, or 0. */
  channelWait?(channelId: string, perMinute: number): Promise<number>;
  /** How long (ms) the channel is still held after LuxSci answered 429, or 0. */
  channelPausedFor?(channelId: string): Promise<number>;
  /** Holds every call of this channel (and only this one) for `ms`: LuxSci answered 429. */
  pauseChannel?(channelId: string, ms: number): Promise<void>;
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
/** A 429 without Retry-After holds the channel this long. */
const DEFAULT_RATE_LIMIT_PAUSE_MS = 1_000;

interface ClaimedBatch {
  id: number;
  seq: number;
  execution_id: number;
  /** Claims of this batch, this one included: the guard of every later write of this run. */
  attempts: number;
  unsettled_since: Date | null;
  settle_after: Date | null;
  luxsci_template_id: string | null;
}

interface PendingRecipient {
  id: string;
  email: string;
  chid: string;
  slot_data: Record<string, string> | null;
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
  const paused = (await control.channelPausedFor?.(channel.id)) ?? 0;
  if (paused > 0) throw await control.delay(paused);
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
     RETURNING b.id, b.seq, b.execution_id, b.attempts, b.unsettled_since, b.settle_after,
       t.luxsci_template_id`,
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

  const recipients = await deps.pool.query<PendingRecipient>(
    `SELECT id, email, chid, slot_data FROM recipient
     WHERE execution_id = $1 AND batch_seq = $2 AND state = 'pending' ORDER BY id`,
    [executionId, batch.seq],
  );
  let toSend = recipients.rows;
  let alreadySent = 0;
  if (batch.unsettled_since && batch.settle_after) {
    // An earlier call's outcome is unknown: what LuxSci has is recorded, the rest waits until
    // the sent report can be trusted to show everything that call sent.
    const outcome = await settleUnsettled(deps.luxsci.client(channel), {
      chidPrefix: chidOf(executionId, execution.offerId, channel.id, ""),
      chids: new Set(toSend.map((r) => r.chid)),
      unsettled: { since: batch.unsettled_since, settleAfter: batch.settle_after },
    });
    const done = toSend.filter((r) => outcome.found.has(r.chid));
    await recordSent(
      deps,
      batch,
      done.map((r) => r.id),
      done.map((r) => outcome.found.get(r.chid) as string),
      { settled: outcome.settled, batchSent: false },
    );
    alreadySent = done.length;
    toSend = toSend.filter((r) => !outcome.found.has(r.chid));
    if (!outcome.settled) {
      log.warn(
        { alreadySent, waitMs: outcome.waitMs },
        "an earlier send's outcome is unknown: waiting until LuxSci's sent report shows it",
      );
      throw await control.delay(outcome.waitMs);
    }
    if (alreadySent > 0)
      log.warn({ alreadySent }, "recipients LuxSci already has are recorded, not resent");
  }

  toSend = await dropHeaderBreaks(
    deps,
    { ...batch, offerId: execution.offerId, channelId: channel.id },
    toSend,
  );

  const client = deps.luxsci.client(channel, { forSend: true });
  let sendmailIds: string[] = [];
  if (toSend.length > 0) {
    try {
      sendmailIds = await callSend(deps, client, channel, batch, toSend, control);
    } catch (error) {
      return handleSendError(deps, client, batch, error, control, channel.id);
    }
  }
  const ended = await recordSent(
    deps,
    batch,
    toSend.map((r) => r.id),
    sendmailIds,
    { settled: true, batchSent: true },
  );
  log.info({ sent: toSend.length, alreadySent, ended }, "batch sent");
  return { batchId, outcome: "sent", sent: toSend.length, alreadySent };
}

/** A failure of the send call itself (not of what comes before it): it may have been sent. */
class SendCallError extends Error {
  constructor(readonly failure: unknown) {
    super((failure as Error)?.message ?? String(failure));
    this.name = "SendCallError";
  }
}

/**
 * One POST of the batch's pending recipients. The lock is renewed first (a job whose lock
 * lapsed may be running again elsewhere: only the holder sends), then the batch is marked
 * unsettled (settle.ts) with this run's claim as guard (a run that claimed it since sends, not
 * this one), then the call goes out.
 */
async function callSend(
  deps: OutboundDeps,
  client: LuxSciClient,
  channel: Parameters<typeof buildMessages>[0],
  batch: ClaimedBatch,
  toSend: readonly PendingRecipient[],
  control: SendJobControl,
): Promise<string[]> {
  const messages = buildMessages(
    channel,
    batch.luxsci_template_id as string,
    toSend.map((r) => ({ email: r.email, chid: r.chid, slots: r.slot_data ?? {} })),
  );
  const serverNow = await client.serverTime();
  if (control.ownsLock && !(await control.ownsLock())) throw new LockLostError(`batch ${batch.id}`);
  const mark = markBeforeCall(serverNow, deps.settle);
  const marked = await deps.pool.query(
    `UPDATE batch SET unsettled_since = COALESCE(unsettled_since, $3), settle_after = $4,
       updated_at = now()
     WHERE id = $1 AND state = 'sending' AND attempts = $2`,
    [batch.id, batch.attempts, mark.since, mark.settleAfter],
  );
  if (!marked.rowCount) throw new LockLostError(`batch ${batch.id}`);
  try {
    // One attempt per call: a retry happens at the job level, after the batch is settled.
    return await client.sendEmail(messages, { maxAttempts: 1 });
  } catch (error) {
    throw new SendCallError(error);
  }
}

/**
 * Recipients become sent with their sendmail ids, and (when `settled`) the batch's unsettled
 * mark goes, in one statement; with `batchSent` the batch ends sent and the execution counts
 * it. Returns whether the batch ended by this call.
 */
async function recordSent(
  deps: OutboundDeps,
  batch: ClaimedBatch,
  ids: readonly string[],
  sendmailIds: readonly string[],
  options: { settled: boolean; batchSent: boolean },
): Promise<boolean> {
  if (!options.settled && ids.length === 0) return false;
  const result = await deps.pool.query<{ ended: boolean }>(
    `WITH r AS (
       UPDATE recipient r SET sendmail_id = v.sendmail_id, state = 'sent', sent_at = now()
       FROM unnest($2::bigint[], $3::text[]) AS v(id, sendmail_id)
       WHERE r.id = v.id AND r.state <> 'sent'
     ), b AS (
       UPDATE batch SET
         unsettled_since = CASE WHEN $4 THEN NULL ELSE unsettled_since END,
         settle_after = CASE WHEN $4 THEN NULL ELSE settle_after END,
         state = CASE WHEN $5 THEN 'sent'::batch_state ELSE state END,
         sent_at = CASE WHEN $5 THEN now() ELSE sent_at END,
         error = CASE WHEN $5 THEN NULL ELSE error END,
         updated_at = now()
       WHERE id = $1 AND state = 'sending'
       RETURNING execution_id
     ), e AS (
       UPDATE execution SET batches_sent = batches_sent + 1, updated_at = now()
       WHERE $5 AND id IN (SELECT execution_id FROM b)
       RETURNING id
     )
     SELECT EXISTS (SELECT 1 FROM e) AS ended`,
    [batch.id, ids, sendmailIds, options.settled, options.batchSent],
  );
  return result.rows[0]?.ended ?? false;
}

/** Maps a failed call to a retry, a channel pause, or the batch's end (settle.ts first). */
async function handleSendError(
  deps: OutboundDeps,
  client: LuxSciClient,
  batch: ClaimedBatch,
  thrown: unknown,
  control: SendJobControl,
  channelId: string,
): Promise<never> {
  const log = deps.logger.child({ executionId: batch.execution_id, batchId: batch.id });
  if (thrown instanceof LockLostError) {
    log.warn("the job's lock lapsed before its send: left to the run that holds it");
    throw thrown;
  }
  const inCall = thrown instanceof SendCallError;
  const error = inCall ? thrown.failure : thrown;
  const message = (error as Error).message;
  // Only the call itself can have sent anything; what failed before it sent nothing.
  const settleAfter = inCall ? settleAfterFailedCall(error, client, deps.settle) : null;
  const refused = settleAfter === null;
  if (inCall) {
    // Refused: the batch is settled again. Unknown: the mark stays, its deadline now from the
    // call's end. Either way only while this run's claim holds.
    await deps.pool.query(
      `UPDATE batch SET settle_after = $3,
         unsettled_since = CASE WHEN $3::timestamptz IS NULL THEN NULL ELSE unsettled_since END,
         updated_at = now()
       WHERE id = $1 AND state = 'sending' AND attempts = $2`,
      [batch.id, batch.attempts, settleAfter],
    );
    if (!refused) {
      log.warn({ err: message }, "send outcome unknown: the batch settles before any resend");
    }
  }
  if (error instanceof LuxSciRateLimitError) {
    const ms = error.retryAfterMs ?? DEFAULT_RATE_LIMIT_PAUSE_MS;
    await control.pauseChannel?.(channelId, ms);
    log.warn({ retryAfterMs: ms }, "LuxSci rate limit: this channel's sends wait");
    throw await control.delay(ms);
  }
  // LuxSci's own word (retryable statuses, a limit answered as 401), or anything unexpected.
  const retryable = error instanceof LuxSciError ? error.retryable : true;
  if (retryable && !(error instanceof UnrecoverableError)) {
    if (control.attemptsMade + 1 < control.attempts) {
      log.warn(
        { attempt: control.attemptsMade + 1, err: message },
        "batch send failed, will retry",
      );
      throw error;
    }
  }
  return failBatch(
    deps,
    batch,
    refused ? message : `${message} (outcome unknown: a replay first checks LuxSci's sent report)`,
  );
}

/** The batch ends failed with LuxSci's message kept; the job fails without more retries. */
async function failBatch(deps: OutboundDeps, batch: ClaimedBatch, message: string): Promise<never> {
  const { id: batchId, execution_id: executionId } = batch;
  await deps.pool.query(
    `WITH b AS (
       UPDATE batch SET state = 'failed', error = $2, updated_at = now()
       WHERE id = $1 AND state = 'sending' RETURNING execution_id, seq
     ), r AS (
       UPDATE recipient SET state = 'failed'
       WHERE execution_id = $3 AND batch_seq IN (SELECT seq FROM b) AND state = 'pending'
     )
     UPDATE execution SET batches_failed = batches_failed + 1, updated_at = now()
     WHERE id IN (SELECT execution_id FROM b)`,
    [batchId, message.slice(0, 2000), executionId],
  );
  deps.logger.error({ executionId, batchId, err: message }, "batch failed");
  throw new UnrecoverableError(message);
}
