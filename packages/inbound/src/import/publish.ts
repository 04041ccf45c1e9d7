import type { Redis } from "ioredis";
import type pg from "pg";
import { NEW_EVENTS_TABLE } from "./stage.ts";

// DESIGN "Inbound state sync": events also go to a stream so that downstream workflows can
// react. One Redis Stream per deployment, fed after the import's COMMIT with exactly the
// events that import inserted (a re-import inserts none, so publishes none). Payload fields:
// packages/inbound/README.md "Events stream".
//
// Speed: a client-side XADD per event costs ~20 µs in ioredis here (measured), a million
// events 20 s. So PostgreSQL renders each event's values as a JSON array, batches of them go
// to a Lua script that XADDs them inside Redis, and the next batch is fetched while Redis
// works. Field names live in the script and the stream is trimmed once per batch: sending and
// decoding only the values took the publish from ~16 to ~9 µs per event (bench, 200,000
// events, same machine load).

/** Name of the events stream under the queue prefix: `${queuePrefix}:events`. */
export const EVENTS_STREAM = "events";
/** Approximate cap (MAXLEN ~): the stream is a feed, not an archive; email_event is that. */
export const EVENTS_STREAM_MAXLEN = 1_000_000;
// Events per script call: a call holds Redis for ~20 ms.
const PUBLISH_BATCH = 5000;

/** The stream's key under a queue prefix. */
export function eventsStreamKey(queuePrefix: string): string {
  return `${queuePrefix}:${EVENTS_STREAM}`;
}

// KEYS[1] stream; ARGV[1] MAXLEN, ARGV[2] channel id, ARGV[3] a JSON array of entries, each
// [id, type, executionId, offerId, contactId, email, sendmailId, occurredAt(, url)]: values
// only, so the batch is half the bytes to send and decode. Trimmed once per batch rather than
// per XADD: the cap is approximate anyway.
const XADD_BATCH_SCRIPT = `
local channel = ARGV[2]
local events = cjson.decode(ARGV[3])
for i = 1, #events do
  local e = events[i]
  if #e == 9 then
    redis.call('XADD', KEYS[1], '*', 'id', e[1], 'type', e[2], 'channelId', channel,
      'executionId', e[3], 'offerId', e[4], 'contactId', e[5], 'email', e[6],
      'sendmailId', e[7], 'occurredAt', e[8], 'url', e[9])
  else
    redis.call('XADD', KEYS[1], '*', 'id', e[1], 'type', e[2], 'channelId', channel,
      'executionId', e[3], 'offerId', e[4], 'contactId', e[5], 'email', e[6],
      'sendmailId', e[7], 'occurredAt', e[8])
  end
end
redis.call('XTRIM', KEYS[1], 'MAXLEN', '~', ARGV[1])
return #events`;

// One stream entry's values as a JSON array, rendered by PostgreSQL (strings only: cjson's
// null would not be a valid XADD argument). url only on clicks.
const ENTRY_VALUES = `id::text, type::text, execution_id::text, offer_id::text, contact_id,
  COALESCE(email, ''), sendmail_id,
  to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

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
         SELECT (CASE WHEN type = 'clicked'
                      THEN json_build_array(${ENTRY_VALUES}, COALESCE(url, ''))
                      ELSE json_build_array(${ENTRY_VALUES}) END)::text AS entry
           FROM ${NEW_EVENTS_TABLE}`,
    );
    for (;;) {
      const { rows } = await client.query<{ entry: string }>(
        `FETCH ${PUBLISH_BATCH} FROM lr_import_events`,
      );
      await inFlight;
      if (rows.length === 0) break;
      const batch = `[${rows.map((row) => row.entry).join(",")}]`;
      inFlight = redis.eval(XADD_BATCH_SCRIPT, 1, key, maxLen, options.channelId, batch);
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
