import type pg from "pg";

// event_cursor (prisma/schema.prisma EventCursor): per channel, the email_event id up to which
// new events have been applied (offer history, suppression, engagement) and, as a fallback
// for the stream's own mark in Redis, published.

export interface EventCursor {
  /** Events up to this id are applied (a decimal string: ids are bigint). */
  appliedId: string;
  /** Events up to this id are known to be on the events stream. */
  publishedId: string;
}

export async function readEventCursor(
  client: pg.ClientBase,
  channelId: string,
): Promise<EventCursor> {
  const { rows } = await client.query<{ applied_id: string; published_id: string }>(
    "SELECT applied_id::text, published_id::text FROM event_cursor WHERE channel_id = $1",
    [channelId],
  );
  return {
    appliedId: rows[0]?.applied_id ?? "0",
    publishedId: rows[0]?.published_id ?? "0",
  };
}

/** Moves one of the cursor's marks forward (never back) to `id`. */
export async function advanceEventCursor(
  client: pg.ClientBase,
  channelId: string,
  mark: "applied_id" | "published_id",
  id: string,
): Promise<void> {
  await client.query(
    `INSERT INTO event_cursor (channel_id, ${mark}, updated_at) VALUES ($1, $2, now())
     ON CONFLICT (channel_id) DO UPDATE
       SET ${mark} = GREATEST(event_cursor.${mark}, EXCLUDED.${mark}), updated_at = now()`,
    [channelId, id],
  );
}
