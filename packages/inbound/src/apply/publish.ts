import type { Redis } from "ioredis";
import type pg from "pg";
import { to as copyTo } from "pg-copy-streams";

// DESIGN "Inbound state sync": events also go to a stream so that downstream workflows can
// react. One Redis Stream per deployment; payload fields: packages/inbound/README.md "Events
// stream".
//
// Exactly once: each channel has a mark in Redis, the id of the last email_event it added to
// the stream, and the script that adds a batch skips ids at or below it and moves it, in one
// atomic step. So a publish that dies anywhere (before, during or after a batch) is redone
// from the mark, and two publishers can't both add an event. event_cursor.published_id keeps a
// copy, moved after the batches: where the mark starts again if Redis lost it.
//
// Speed: a client-side XADD per event costs ~20 µs in ioredis here (measured), a million
// events 20 s. So PostgreSQL renders each event's values as a JSON array and sends them by
// binary COPY (no escaping to undo), Node only frames them into batches of bytes, and a Lua
// script XADDs a batch inside Redis, a few batches sent ahead while the next are read. Field
// names live in the script and the stream is trimmed once per batch. Building the entries in
// Node instead cost it ~5 µs per event; Redis itself spends ~7 µs per XADD of these entries
// (bench machine), a million events ~7 s of its one core.

/** Name of the events stream under the queue prefix: `${queuePrefix}:events`. */
export const EVENTS_STREAM = "events";
/** Approximate cap (MAXLEN ~): the stream is a feed, not an archive; email_event is that. */
export const EVENTS_STREAM_MAXLEN = 1_000_000;
// Events per script call: a call holds Redis for ~35 ms.
const PUBLISH_BATCH = 5000;
// Batches sent ahead of the one Redis is running.
const MAX_BATCHES_SENT = 4;

/** The stream's key under a queue prefix. */
export function eventsStreamKey(queuePrefix: string): string {
  return `${queuePrefix}:${EVENTS_STREAM}`;
}

/** The key of a channel's mark: the id of the last of its events on the stream. */
export function eventsMarkKey(queuePrefix: string, channelId: string): string {
  return `${queuePrefix}:${EVENTS_STREAM}:published:${channelId}`;
}

// KEYS[1] stream, KEYS[2] the channel's mark; ARGV[1] MAXLEN, ARGV[2] channel id, ARGV[3] the
// mark to assume when KEYS[2] is missing, ARGV[4] the last id of the batch sent before this one
// (or where publishing started), ARGV[5] a JSON array of entries in id order, each [id, type,
// executionId, offerId, contactId, email, sendmailId, occurredAt(, url)]: values only, so the
// batch is half the bytes to send and decode. Batches are sent ahead without waiting, so a
// batch refuses to run unless the one before completed (the mark reached its last id): none is
// skipped past. An XADD that fails (Redis out of memory) leaves the mark at the last entry
// added, so a retry neither repeats nor loses one. Ids are compared as numbers (exact below
// 2^53); the mark is stored as the id's own text. Trimmed once per batch rather than per XADD:
// the cap is approximate anyway. Returns how many entries were added.
const XADD_BATCH_SCRIPT = `
local stored = redis.call('GET', KEYS[2])
local markText = stored or ARGV[3]
local mark = tonumber(markText)
if mark < tonumber(ARGV[4]) then
  return redis.error_reply('events stream: the batch before did not complete')
end
local channel = ARGV[2]
local events = cjson.decode(ARGV[5])
local added = 0
local failure = nil
for i = 1, #events do
  local e = events[i]
  local id = tonumber(e[1])
  if id > mark then
    local reply
    if #e == 9 then
      reply = redis.pcall('XADD', KEYS[1], '*', 'id', e[1], 'type', e[2], 'channelId', channel,
        'executionId', e[3], 'offerId', e[4], 'contactId', e[5], 'email', e[6],
        'sendmailId', e[7], 'occurredAt', e[8], 'url', e[9])
    else
      reply = redis.pcall('XADD', KEYS[1], '*', 'id', e[1], 'type', e[2], 'channelId', channel,
        'executionId', e[3], 'offerId', e[4], 'contactId', e[5], 'email', e[6],
        'sendmailId', e[7], 'occurredAt', e[8])
    end
    if type(reply) == 'table' and reply.err then
      failure = reply
      break
    end
    mark = id
    markText = e[1]
    added = added + 1
  end
end
if added > 0 then
  redis.call('SET', KEYS[2], markText)
  redis.call('XTRIM', KEYS[1], 'MAXLEN', '~', ARGV[1])
end
if failure then return failure end
return added`;

// One stream entry's values as a JSON array, rendered by PostgreSQL (strings only: cjson's
// null would not be a valid XADD argument). url only on clicks. offer_id from tracking.
const ENTRY_VALUES = `e.id::text, e.type::text, COALESCE(e.execution_id::text, ''),
  COALESCE(t.offer_id::text, ''), COALESCE(e.contact_id, ''), COALESCE(e.email, ''),
  e.sendmail_id, to_char(e.occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

/** Where a channel's stream starts again: its mark in Redis, else the cursor's copy. */
export async function readStreamMark(
  redis: Redis,
  queuePrefix: string,
  channelId: string,
  fallback: string,
): Promise<string> {
  return (await redis.get(eventsMarkKey(queuePrefix, channelId))) ?? fallback;
}

// Binary COPY framing: an 11-byte signature, flags and extension length, then per row a field
// count (int16) and each field as a length (int32) and its bytes; -1 as field count ends it.
const BINARY_HEADER_BYTES = 19;
const OPEN = Buffer.from("[");
const COMMA = Buffer.from(",");
const CLOSE = Buffer.from("]");

/**
 * Adds the channel's events with ids above `afterId` (at most `limit`, in id order) to the
 * events stream; the script skips those at or below the channel's mark. `fallbackMark` is the
 * mark to assume if Redis has none (the cursor's published_id). Returns how many were read,
 * how many added and the last id read (`afterId` when none).
 */
export async function publishStoredEvents(
  client: pg.ClientBase,
  redis: Redis,
  options: {
    queuePrefix: string;
    channelId: string;
    afterId: number;
    limit: number;
    fallbackMark: string;
  },
): Promise<{ read: number; published: number; lastId: number }> {
  const { queuePrefix, channelId, afterId, limit } = options;
  // COPY takes no parameters: the channel id is quoted as a literal, the numbers checked.
  if (!Number.isSafeInteger(afterId) || !Number.isSafeInteger(limit)) {
    throw new RangeError(`bad event range: after ${afterId}, limit ${limit}`);
  }
  const stream = client.query(
    copyTo(`COPY (
      SELECT e.id, (CASE WHEN e.type = 'clicked'
                         THEN json_build_array(${ENTRY_VALUES}, COALESCE(e.url, ''))
                         ELSE json_build_array(${ENTRY_VALUES}) END)::text
        FROM email_event e LEFT JOIN tracking t ON t.execution_id = e.execution_id
       WHERE e.channel_id = ${client.escapeLiteral(channelId)} AND e.id > ${afterId}
       ORDER BY e.id LIMIT ${limit}) TO STDOUT (FORMAT binary)`),
  );
  const script = [
    2,
    eventsStreamKey(queuePrefix),
    eventsMarkKey(queuePrefix, channelId),
    String(EVENTS_STREAM_MAXLEN),
    channelId,
    options.fallbackMark,
  ] as const;
  let read = 0;
  let published = 0;
  let lastId = afterId;
  let batchStart = afterId;
  let parts: Buffer[] = [];
  let inBatch = 0;
  // Batches sent and not yet done, oldest first: Redis runs them in order (one connection).
  const sent: Promise<void>[] = [];
  let failure: { error: unknown } | null = null;
  const send = async () => {
    if (inBatch > 0) {
      parts.push(CLOSE);
      const batch = Buffer.concat(parts);
      parts = [];
      inBatch = 0;
      const previousLast = String(batchStart);
      batchStart = lastId;
      const done = redis
        .eval(XADD_BATCH_SCRIPT, ...script, previousLast, batch)
        .then((added) => {
          published += Number(added);
        })
        .catch((error: unknown) => {
          failure ??= { error };
        });
      sent.push(done);
    }
    // PostgreSQL renders the next batches while Redis works through these.
    while (sent.length > MAX_BATCHES_SENT) await sent.shift();
    if (failure !== null) throw failure.error;
  };
  try {
    let pending: Buffer | null = null;
    let skipHeader = true;
    for await (const data of stream as AsyncIterable<Buffer>) {
      const chunk: Buffer = pending === null ? data : Buffer.concat([pending, data]);
      pending = null;
      let at = 0;
      if (skipHeader) {
        if (chunk.length < BINARY_HEADER_BYTES) {
          pending = chunk;
          continue;
        }
        at = BINARY_HEADER_BYTES;
        skipHeader = false;
      }
      for (;;) {
        // A row: int16 2, int32 8, int64 id, int32 n, n bytes of JSON.
        if (chunk.length - at < 2) break;
        if (chunk.readInt16BE(at) === -1) {
          at = chunk.length;
          break;
        }
        if (chunk.length - at < 18) break;
        const length = chunk.readInt32BE(at + 14);
        if (chunk.length - at < 18 + length) break;
        lastId = Number(chunk.readBigInt64BE(at + 6));
        parts.push(inBatch === 0 ? OPEN : COMMA, chunk.subarray(at + 18, at + 18 + length));
        inBatch++;
        read++;
        at += 18 + length;
        // The entries are views of the chunks until send() copies them into one batch.
        if (inBatch >= PUBLISH_BATCH) await send();
      }
      if (at < chunk.length) pending = chunk.subarray(at);
    }
    await send();
    await Promise.all(sent);
    if (failure !== null) throw (failure as { error: unknown }).error;
  } catch (error) {
    // Every batch sent settles before the error leaves (their failures are caught above).
    await Promise.all(sent);
    throw error;
  }
  return { read, published, lastId };
}
