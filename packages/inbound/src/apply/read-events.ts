import { copyField } from "@luxrelay/db";
import type pg from "pg";
import { to as copyTo } from "pg-copy-streams";
import { toEpochMs } from "../import/epoch-ms.ts";
import { type EventType, FAILURE_TYPES, sqlTypeList } from "../import/map-row.ts";
import type { AppliedEvent } from "./aggregate.ts";
import { SUPPRESSION_SOURCES } from "./suppression.ts";

// The apply step's one read of a channel's new events, for the sums and the events stream:
// COPY ... TO STDOUT in text format, parsed here, one line per event, only the columns they
// need. A million events come out in ~1.5 s of PostgreSQL time, several times less than as
// query rows through pg's row parser. The read walks the primary key in id order: right after
// a large import the table's statistics are stale, and PostgreSQL, expecting a few rows,
// scanned the whole table in parallel and sorted the million on disk instead (~3 s more).

const LF = 0x0a;
const SUPPRESSING_TYPES = sqlTypeList(Object.keys(SUPPRESSION_SOURCES));
const FAILURES = sqlTypeList(FAILURE_TYPES);

/** A stored event as the apply step reads it. */
export interface StoredEvent extends AppliedEvent {
  /** email_event.id; below 2^53, so a number. */
  id: number;
  sendmailId: string;
  /** The clicked URL; clicks only. */
  url: string | null;
  /** The execution's offer (tracking); null when the event has no execution. */
  offerId: number | null;
}

function parseLine(line: string): StoredEvent {
  const fields = line.split("\t");
  const execution = fields[2] as string;
  return {
    id: Number(fields[0]),
    type: fields[1] as EventType,
    executionId: execution === "\\N" ? null : Number(execution),
    contactId: copyField(fields[3] as string),
    email: copyField(fields[4] as string),
    occurredMs: Number(fields[5]),
    status: copyField(fields[6] as string),
    details: copyField(fields[7] as string),
    sendmailId: copyField(fields[8] as string) ?? "",
    url: copyField(fields[9] as string),
    offerId: null,
  };
}

/** offer_id per execution_id, from the channel's tracking rows (one offer per execution). */
async function readOfferIds(
  client: pg.ClientBase,
  channelId: string,
): Promise<Map<number, number>> {
  const { rows } = await client.query<{ execution_id: number; offer_id: number }>(
    "SELECT execution_id, offer_id FROM tracking WHERE channel_id = $1",
    [channelId],
  );
  return new Map(rows.map((row) => [row.execution_id, row.offer_id]));
}

/**
 * The channel's events with an id above `afterId`, in id order, at most `limit`, in batches
 * (what one read from the connection holds), each with its offer (from tracking, in the same
 * snapshot). status and details are read only for the types that suppress (they are the
 * reason), url for clicks. Runs in a transaction of its own, so call it on a connection that
 * is not in one, and read to the end: a read left mid-COPY throws (the connection can't run
 * another statement until the COPY ends: close it).
 */
export async function* readStoredEvents(
  client: pg.ClientBase,
  channelId: string,
  afterId: number,
  limit: number,
): AsyncGenerator<StoredEvent[]> {
  // COPY takes no parameters: the channel id is quoted as a literal, the numbers checked.
  if (!Number.isSafeInteger(afterId) || !Number.isSafeInteger(limit)) {
    throw new RangeError(`bad event range: after ${afterId}, limit ${limit}`);
  }
  // One snapshot for the offers and the events: an event's tracking row is always there.
  await client.query("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY");
  // Whether the connection is free for the statement after (no COPY under way).
  let free = true;
  let ended = false;
  try {
    const offerIds = await readOfferIds(client, channelId);
    // The primary key's order, one process (see the top).
    await client.query(
      "SET LOCAL enable_seqscan = off; SET LOCAL enable_bitmapscan = off; SET LOCAL max_parallel_workers_per_gather = 0",
    );
    free = false;
    const stream = client.query(
      copyTo(`COPY (
        SELECT id, type, execution_id, contact_id, email,
               ${toEpochMs("occurred_at")},
               CASE WHEN type IN ${SUPPRESSING_TYPES} THEN status END,
               CASE WHEN type IN ${FAILURES} THEN details END,
               sendmail_id,
               CASE WHEN type = 'clicked' THEN url END
          FROM email_event
         WHERE channel_id = ${client.escapeLiteral(channelId)} AND id > ${afterId}
         ORDER BY id LIMIT ${limit}) TO STDOUT`),
    );
    // A COPY that fails ends its statement: the connection is free for the ROLLBACK.
    stream.on("error", () => {
      free = true;
    });
    let pending: Buffer | null = null;
    for await (const data of stream as AsyncIterable<Buffer>) {
      // Lines are decoded whole (a chunk may end inside a multi-byte character).
      const chunk: Buffer = pending === null ? data : Buffer.concat([pending, data]);
      const end = chunk.lastIndexOf(LF);
      if (end < 0) {
        pending = chunk;
        continue;
      }
      const lines = chunk.toString("utf8", 0, end).split("\n");
      pending = end + 1 < chunk.length ? chunk.subarray(end + 1) : null;
      yield lines.map((line) => {
        const event = parseLine(line);
        event.offerId =
          event.executionId === null ? null : (offerIds.get(event.executionId) ?? null);
        return event;
      });
    }
    free = true;
    await client.query("COMMIT");
    ended = true;
  } finally {
    if (!ended) {
      if (!free) {
        // Left mid-COPY (the caller stopped reading or failed): only closing the connection
        // ends it. When the caller failed, its error is the one that surfaces.
        // biome-ignore lint/correctness/noUnsafeFinally: the caller must not reuse the client
        throw new Error("events read left before its end: close this connection");
      }
      await client.query("ROLLBACK").catch(() => undefined);
    }
  }
}
