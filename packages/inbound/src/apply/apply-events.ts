import { withConnection } from "@luxrelay/db";
import type pg from "pg";
import type { InboundDeps } from "../import/types.ts";
import { EventSums } from "./aggregate.ts";
import { advanceEventCursor, readEventCursor } from "./cursor.ts";
import { applyEngagement } from "./engagement.ts";
import { applyOfferHistory } from "./offer-history.ts";
import { publishStoredEvents, readStreamMark } from "./publish.ts";
import { readStoredEvents } from "./read-events.ts";
import { applySuppressions } from "./suppression.ts";

// Seed 000 inbound steps 8-9 and the events stream, after the import (steps 6-7) has stored
// new events. The channel's events past the stream's mark go to the events stream (publish.ts,
// exactly once by that mark); those past its cursor (event_cursor.applied_id) are read, in id
// order, into sums per recipient, address and suppression (aggregate.ts); then one transaction
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

/** Adds the channel's events committed since `pending.streamMark` to the events stream. */
export async function publishAhead(
  client: pg.ClientBase,
  deps: InboundDeps,
  channelId: string,
  pending: PendingSums,
): Promise<void> {
  for (;;) {
    const batch = await publishStoredEvents(client, deps.redis, {
      queuePrefix: deps.queuePrefix,
      channelId,
      afterId: pending.streamMark,
      limit: APPLY_BATCH_EVENTS,
      fallbackMark: pending.fallbackMark,
    });
    pending.published += batch.published;
    pending.streamMark = batch.lastId;
    if (batch.read < APPLY_BATCH_EVENTS) return;
  }
}

/**
 * publishAhead on a connection of its own while `sum` runs: the stream is mostly Redis's work
 * and PostgreSQL's rendering, the sums mostly Node's, so the two overlap.
 */
export async function publishWhile<T>(
  deps: InboundDeps,
  channelId: string,
  pending: PendingSums,
  sum: () => Promise<T>,
): Promise<T> {
  const publishing = withConnection(deps.pool, (client) =>
    publishAhead(client, deps, channelId, pending),
  );
  // Both settle before either's failure leaves.
  const [published, summed] = await Promise.allSettled([publishing, sum()]);
  if (published.status === "rejected") throw published.reason;
  if (summed.status === "rejected") throw summed.reason;
  return summed.value;
}

/**
 * Sums the channel's events after `pending.readId` (at most `pending.batchEvents` less those
 * summed already). Returns how many were read.
 */
export async function sumAhead(
  client: pg.ClientBase,
  channelId: string,
  pending: PendingSums,
): Promise<number> {
  let read = 0;
  const limit = Math.max(pending.batchEvents - pending.sums.events, 0);
  for await (const events of readStoredEvents(client, channelId, pending.readId, limit)) {
    for (const event of events) pending.sums.add(event);
    read += events.length;
    pending.readId = events[events.length - 1]?.id ?? pending.readId;
  }
  return read;
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
      `luxrelay:apply:${channelId}`,
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
    await publishAhead(client, deps, channelId, pending);
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
    for (;;) {
      const pending = await beginReading(client, deps, channelId, batchEvents);
      const read = await publishWhile(deps, channelId, pending, () =>
        sumAhead(client, channelId, pending),
      );
      lap("readMs");
      const written = await writeSums(client, channelId, pending, lap);
      result.published += pending.published;
      if (written) {
        result.applied += pending.sums.events;
        if (read < batchEvents) break;
      }
    }
  });
  deps.logger.info(
    { channelId, ...result, ms: Math.round(performance.now() - started), ...phases },
    "new events applied",
  );
  return result;
}
