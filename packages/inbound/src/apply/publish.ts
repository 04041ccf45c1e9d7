import type { Redis } from "ioredis";
import type { StoredEvent } from "./read-events.ts";

// docs/architecture.md "Inbound state sync": events also go to a stream so that downstream
// workflows can react. One Redis Stream per deployment; payload fields: packages/inbound/README.md
// "Events stream".
//
// Exactly once: each channel has a mark in Redis, the id of the last email_event it added to
// the stream, and the script that adds a batch skips ids at or below it and moves it, in one
// atomic step. So a publish that dies anywhere (before, during or after a batch) is redone
// from the mark, and two publishers can't both add an event. event_cursor.published_id keeps a
// copy, moved after the batches: where the mark starts again if Redis lost it.
//
// Speed: a client-side XADD per event costs ~20 µs in ioredis here (measured), a million
// events 20 s. So Node writes each event's values as a JSON array into a batch, from the read
// that also sums them (apply-events.ts), and a Lua script XADDs a batch inside Redis, a few
// batches sent ahead while the next are read. Field names live in the script and the stream
// is trimmed once per batch. (PostgreSQL rendering the JSON, as before, cost it ~12 µs per
// event, to_char mostly: more than Node's ~2 µs.) Redis itself spends ~8-10 µs per XADD of
// these entries (bench machine), a million events 8-10 s of its one core.

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

/** Where a channel's stream starts again: its mark in Redis, else the cursor's copy. */
export async function readStreamMark(
  redis: Redis,
  queuePrefix: string,
  channelId: string,
  fallback: string,
): Promise<string> {
  return (await redis.get(eventsMarkKey(queuePrefix, channelId))) ?? fallback;
}

let isoDay = Number.NaN;
let isoDayPrefix = "";
const pad2 = (n: number) => (n < 10 ? `0${n}` : `${n}`);

/**
 * `new Date(ms).toISOString()`, ~8 times faster (that costs ~2 µs here, most of an entry's
 * making): events come in runs of the same day, whose "YYYY-MM-DDT" is kept.
 */
export function isoUtc(ms: number): string {
  const day = Math.floor(ms / 86_400_000);
  if (day !== isoDay) {
    isoDay = day;
    isoDayPrefix = new Date(day * 86_400_000).toISOString().slice(0, 11);
  }
  const inDay = ms - day * 86_400_000;
  const seconds = Math.floor(inDay / 1000);
  const milli = inDay - seconds * 1000;
  const fraction = milli < 10 ? `00${milli}` : milli < 100 ? `0${milli}` : `${milli}`;
  return `${isoDayPrefix}${pad2(Math.floor(seconds / 3600))}:${pad2(Math.floor(seconds / 60) % 60)}:${pad2(seconds % 60)}.${fraction}Z`;
}

/** One stream entry's values as script input: [id, type, executionId, offerId, ...]. */
function entryJson(event: StoredEvent): string {
  const values = `"${event.id}","${event.type}","${event.executionId ?? ""}","${event.offerId ?? ""}",${JSON.stringify(event.contactId ?? "")},${JSON.stringify(event.email ?? "")},${JSON.stringify(event.sendmailId)},"${isoUtc(event.occurredMs)}"`;
  return event.type === "clicked"
    ? `[${values},${JSON.stringify(event.url ?? "")}]`
    : `[${values}]`;
}

/**
 * Adds events to the events stream in batches of PUBLISH_BATCH, a few sent ahead, for one
 * channel from one starting point: add() each event read (in id order), then finish(). Events
 * at or below the channel's mark are skipped by the script (and those at or below `afterId`
 * here).
 */
export class StreamPublisher {
  /** Entries added to the stream (not those the script found there already). */
  published = 0;
  /** The last id passed to add(): once finish() returns, the stream has every event up to it. */
  lastId: number;
  private readonly script: readonly [number, string, string, string, string, string];
  private batchStart: number;
  private batch = "";
  private inBatch = 0;
  // Batches sent and not yet done, oldest first: Redis runs them in order (one connection).
  private readonly sent: Promise<void>[] = [];
  private failure: { error: unknown } | null = null;

  constructor(
    private readonly redis: Redis,
    options: { queuePrefix: string; channelId: string; afterId: number; fallbackMark: string },
  ) {
    this.script = [
      2,
      eventsStreamKey(options.queuePrefix),
      eventsMarkKey(options.queuePrefix, options.channelId),
      String(EVENTS_STREAM_MAXLEN),
      options.channelId,
      options.fallbackMark,
    ];
    this.lastId = options.afterId;
    this.batchStart = options.afterId;
  }

  /**
   * Adds one event (ids in increasing order); returns a promise to wait for when enough
   * batches are under way already (or one failed).
   */
  add(event: StoredEvent): Promise<void> | undefined {
    if (event.id <= this.lastId) return undefined;
    this.batch += this.inBatch === 0 ? `[${entryJson(event)}` : `,${entryJson(event)}`;
    this.inBatch++;
    this.lastId = event.id;
    return this.inBatch >= PUBLISH_BATCH ? this.send() : undefined;
  }

  /** Sends the rest and waits for every batch; throws the first failure. */
  async finish(): Promise<void> {
    try {
      await this.send();
    } finally {
      // Every batch sent settles before an error leaves (their failures are caught below).
      await this.settle();
    }
    if (this.failure !== null) throw this.failure.error;
  }

  /** Waits for the batches sent (never throws: their failures are kept for finish). */
  async settle(): Promise<void> {
    await Promise.all(this.sent);
  }

  private async send(): Promise<void> {
    if (this.inBatch > 0) {
      const batch = `${this.batch}]`;
      this.batch = "";
      this.inBatch = 0;
      const previousLast = String(this.batchStart);
      this.batchStart = this.lastId;
      const done = this.redis
        .eval(XADD_BATCH_SCRIPT, ...this.script, previousLast, batch)
        .then((added) => {
          this.published += Number(added);
        })
        .catch((error: unknown) => {
          this.failure ??= { error };
        });
      this.sent.push(done);
    }
    // PostgreSQL and Node read on while Redis works through these.
    while (this.sent.length > MAX_BATCHES_SENT) await this.sent.shift();
    if (this.failure !== null) throw this.failure.error;
  }
}
