import type { Redis } from "ioredis";
import type pg from "pg";
import { NEW_EVENTS_TABLE } from "./stage.ts";

// DESIGN "Inbound state sync": events also go to a stream so that downstream workflows can
// react. One Redis Stream per deployment, fed after the import's COMMIT with exactly the
// events that import inserted (a re-import inserts none, so publishes none). Payload fields:
// packages/inbound/README.md "Events stream".
//
// Speed: a client-side XADD per event costs ~20 µs in ioredis here (measured), a million
// events 20 s. So PostgreSQL renders each batch of events as one JSON array and a Lua script
// XADDs its entries inside Redis (~4 µs each); the next batch is fetched while Redis works.

/** Name of the events stream under the queue prefix: `${queuePrefix}:events`. */
export const EVENTS_STREAM = "events";
/** Approximate cap (MAXLEN ~): the stream is a feed, not an archive; email_event is that. */
export const EVENTS_STREAM_MAXLEN = 1_000_000;
// Events per script call: a call holds Redis for ~10 ms.
const PUBLISH_BATCH = 2000;

/** The stream's key under a queue prefix. */
export function eventsStreamKey(queuePrefix: string): string {
  return `${queuePrefix}:${EVENTS_STREAM}`;
}

// KEYS[1] stream, ARGV[1] MAXLEN, ARGV[2] JSON array of [field, value, ...] arrays (strings
// only: cjson's null would not be a valid XADD argument).
const XADD_BATCH_SCRIPT = `
local events = cjson.decode(ARGV[2])
for i = 1, #events do
  redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', unpack(events[i]))
end
return #events`;

// One stream entry as a JSON array, rendered by PostgreSQL. url only on clicks.
const ENTRY_JSON = `json_build_array(
  'id', id::text, 'type', type::text, 'channelId', $1::text,
  'executionId', execution_id::text, 'offerId', offer_id::text, 'contactId', contact_id,
  'email', COALESCE(email, ''), 'sendmailId', sendmail_id,
  'occurredAt', to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))`;
const CLICK_ENTRY_JSON = `${ENTRY_JSON.slice(0, -1)}, 'url', COALESCE(url, ''))`;

/**
 * XADDs the events kept in the new-events temp table of `client`'s session. Returns how
 * many were published.
 */
export async function publishNewEvents(
  client: pg.ClientBase,
  redis: Redis,
  options: { queuePrefix: string; channelId: string },
): Promise<number> {
  const key = eventsStreamKey(options.queuePrefix);
  const maxLen = String(EVENTS_STREAM_MAXLEN);
  let published = 0;
  let inFlight: Promise<unknown> | null = null;
  await client.query("BEGIN");
  try {
    await client.query("SET LOCAL jit = off");
    await client.query(
      `DECLARE lr_import_events NO SCROLL CURSOR FOR
         SELECT (CASE WHEN type = 'clicked' THEN ${CLICK_ENTRY_JSON} ELSE ${ENTRY_JSON} END)::text
             AS entry
           FROM ${NEW_EVENTS_TABLE}`,
      [options.channelId],
    );
    for (;;) {
      const { rows } = await client.query<{ entry: string }>(
        `FETCH ${PUBLISH_BATCH} FROM lr_import_events`,
      );
      await inFlight;
      if (rows.length === 0) break;
      const batch = `[${rows.map((row) => row.entry).join(",")}]`;
      inFlight = redis.eval(XADD_BATCH_SCRIPT, 1, key, maxLen, batch);
      published += rows.length;
    }
    await client.query("COMMIT");
  } catch (error) {
    // A batch still in flight must settle before the error leaves (no unhandled rejection).
    await inFlight?.catch(() => undefined);
    await client.query("ROLLBACK");
    throw error;
  }
  return published;
}
