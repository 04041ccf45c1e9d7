import { withConnection } from "@luxrelay/db";
import type pg from "pg";
import type { InboundDeps } from "../import/types.ts";
import { EventSums } from "./aggregate.ts";
import { advanceEventCursor, readEventCursor } from "./cursor.ts";
import { applyEngagement } from "./engagement.ts";
import { applyOfferHistory } from "./offer-history.ts";
import { readStreamMark, StreamPublisher } from "./publish.ts";
import { readStoredEvents } from "./read-events.ts";
import { applySuppressions } from "./suppression.ts";

// Seed 000 inbound steps 8-9 and the events stream, after the import (steps 6-7) has stored
// new events. One read, in id order, takes the channel's new events: those past the stream's
// mark go to the events stream (publish.ts, exactly once by that mark); those past its cursor
// (event_cursor.applied_id) into sums per recipient, address and suppression (aggregate.ts),
// the stream's batches going to Redis while Node sums and reads on; then one transaction
// writes the sums to offer_history, suppression and contact_engagement and moves the cursor.
// Any number of imports can come before: their events are summed together and each derived
// row is written once (five files or twenty API chunks of a million events: one write per
// recipient, not one per import). A process that dies anywhere leaves the cursor where the
// last commit put it; the next apply reads from there again (the stream skips what it has).

/** Events summed before they are written: bounds the sums held (~300 bytes per recipient). */
export const APPLY_BATCH_EVENTS = 1_000_000;
// Room for the writes' hash joins over a million sums.
const APPLY_WORK_MEM = "64MB";

export interface ApplyResult {
  /** New events summed into offer history, suppression and engagement. */
  applied: number;
  /** Events added to the events stream. */
  published: number;
}

export type Lap = (phase: string) => void;

/** Events published and summed, whose sums are not written yet. */
export interface PendingSums {
  /** event_cursor.applied_id when reading began: events above it are summed. */
  appliedId: number;
  /** The last event summed. */
  readId: number;
  /** The last event passed to the stream (added, or found there). */
  streamMark: number;
  /** The cursor's published_id: the stream's mark if Redis has none. */
  fallbackMark: string;
  /** Events summed at most before they are written (APPLY_BATCH_EVENTS). */
  batchEvents: number;
  published: number;
  sums: EventSums;
}

export async function beginReading(
  client: pg.ClientBase,
  deps: InboundDeps,
  channelId: string,
  batchEvents = APPLY_BATCH_EVENTS,
): Promise<PendingSums> {
  const cursor = await readEventCursor(client, channelId);
  const mark = await readStreamMark(deps.redis, deps.queuePrefix, channelId, cursor.publishedId);
  const appliedId = Number(cursor.appliedId);
  return {
    appliedId,
    readId: appliedId,
    streamMark: Number(mark),
    fallbackMark: cursor.publishedId,
    batchEvents,
    published: 0,
    sums: new EventSums(),
  };
}

/**
 * One read of the channel's events past `pending.readId` (with `sum`) or past
 * `pending.streamMark` (without), whichever is lower, at most `limit` of them: each past the
 * stream's mark goes to the events stream, and with `sum` each past `readId` is summed. So the
 * stream and the sums take their events from one read. Returns whether every event committed
 * when the read began was read (fewer than `limit` came).
 */
export async function readAhead(
  client: pg.ClientBase,
  deps: InboundDeps,
  channelId: string,
  pending: PendingSums,
  sum: boolean,
): Promise<boolean> {
  const from = sum ? Math.min(pending.readId, pending.streamMark) : pending.streamMark;
  const limit = sum ? Math.max(pending.batchEvents - pending.sums.events, 0) : APPLY_BATCH_EVENTS;
  if (limit === 0) return false;
  const stream = new StreamPublisher(deps.redis, {
    queuePrefix: deps.queuePrefix,
    channelId,
    afterId: pending.streamMark,
    fallbackMark: pending.fallbackMark,
  });
  let read = 0;
  try {
    for await (const events of readStoredEvents(client, channelId, from, limit)) {
      for (const event of events) {
        if (sum && event.id > pending.readId) pending.sums.add(event);
        const sending = stream.add(event);
        if (sending) await sending;
      }
      read += events.length;
      if (sum) pending.readId = Math.max(pending.readId, events[events.length - 1]?.id ?? 0);
    }
  } catch (error) {
    // The batches sent settle before the error leaves (the next apply starts from the mark).
    await stream.settle();
    throw error;
  }
  await stream.finish();
  pending.published += stream.published;
  pending.streamMark = stream.lastId;
  return read < limit;
}

function applyLockKey(channelId: string): string {
  return `luxrelay:apply:${channelId}`;
}

/**
 * Writes the sums and moves the cursor, in one transaction. Returns false, writing nothing,
 * when another apply moved the cursor since reading began (its sums hold the same events).
 */
export async function writeSums(
  client: pg.ClientBase,
  channelId: string,
  pending: PendingSums,
  lap: Lap,
): Promise<boolean> {
  await client.query("BEGIN");
  try {
    await client.query(`SET LOCAL work_mem = '${APPLY_WORK_MEM}'; SET LOCAL jit = off`);
    // One writer per channel at a time, and only of sums read from the cursor it finds.
    await client.query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", [
      applyLockKey(channelId),
    ]);
    if (Number((await readEventCursor(client, channelId)).appliedId) !== pending.appliedId) {
      await client.query("ROLLBACK");
      return false;
    }
    const { sums } = pending;
    if (sums.events > 0) {
      await applyOfferHistory(client, channelId, sums.recipients());
      lap("offerHistoryMs");
      await applySuppressions(client, channelId, sums.suppressions.values());
      lap("suppressionMs");
      await applyEngagement(client, channelId, sums.addresses.values());
      lap("engagementMs");
    }
    if (pending.readId > pending.appliedId) {
      await advanceEventCursor(client, channelId, "applied_id", String(pending.readId));
    }
    await advanceEventCursor(client, channelId, "published_id", String(pending.streamMark));
    await client.query("COMMIT");
    lap("commitMs");
    return true;
  } catch (error) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw error;
  }
}

/** Milliseconds per phase (summed over repeats), and the lap that adds to them. */
export function phaseClock(): { phases: Record<string, number>; lap: Lap } {
  const phases: Record<string, number> = {};
  let mark = performance.now();
  return {
    phases,
    lap(phase) {
      const now = performance.now();
      phases[phase] = (phases[phase] ?? 0) + Math.round(now - mark);
      mark = now;
    },
  };
}

/**
 * Publishes the channel's events that the stream does not have yet, without applying them:
 * for an import whose events another apply will take shortly (export mode: the next file's).
 * Returns how many were published.
 */
export async function publishNewEvents(deps: InboundDeps, channelId: string): Promise<number> {
  const started = performance.now();
  const published = await withConnection(deps.pool, async (client) => {
    const pending = await beginReading(client, deps, channelId);
    while (!(await readAhead(client, deps, channelId, pending, false))) {
      // A full read: more may be committed past it.
    }
    await advanceEventCursor(client, channelId, "published_id", String(pending.streamMark));
    return pending.published;
  });
  const ms = Math.round(performance.now() - started);
  deps.logger.info({ channelId, published, ms, publishMs: ms }, "new events published");
  return published;
}

/**
 * Applies the channel's new events (offer history, suppression, engagement) and publishes
 * them to the events stream. Safe to call at any time and from anywhere, as often as wanted:
 * what is applied and published is not done again. Throws when PostgreSQL or Redis fails;
 * what was committed stays, and the next call goes on from there.
 */
export async function applyNewEvents(
  deps: InboundDeps,
  channelId: string,
  /** Events summed per transaction (tests use a few). */
  batchEvents = APPLY_BATCH_EVENTS,
): Promise<ApplyResult> {
  const started = performance.now();
  const { phases, lap } = phaseClock();
  const result: ApplyResult = { applied: 0, published: 0 };
  await withConnection(deps.pool, async (client) => {
    // The channel's applies take turns from before they read, not only to write: an apply that
    // started while another was reading would read the same events, then find them applied
    // and read again (export mode, two files imported moments apart: a million events read
    // twice). A session lock, re-entrant for writeSums' own; if this fails, withConnection
    // closes the connection, which releases it.
    await client.query("SELECT pg_advisory_lock(hashtextextended($1, 0))", [
      applyLockKey(channelId),
    ]);
    lap("applyLockMs");
    for (;;) {
      const pending = await beginReading(client, deps, channelId, batchEvents);
      const exhausted = await readAhead(client, deps, channelId, pending, true);
      lap("readMs");
      const written = await writeSums(client, channelId, pending, lap);
      result.published += pending.published;
      if (written) {
        result.applied += pending.sums.events;
        if (exhausted) break;
      }
    }
    await client.query("SELECT pg_advisory_unlock(hashtextextended($1, 0))", [
      applyLockKey(channelId),
    ]);
  });
  deps.logger.info(
    { channelId, ...result, ms: Math.round(performance.now() - started), ...phases },
    "new events applied",
  );
  return result;
}
