import type { OutboundDeps } from "../context.ts";

// The interaction log's realtime rows (issue 7): one per offer per hour, counters added up
// by every flush (sent, calls, reconciled) and every refused contact (suppressed, invalid).

export type RealtimeCounters = Partial<
  Record<"sent" | "calls" | "reconciled" | "suppressed" | "invalid", number>
>;

export async function countRealtime(
  deps: OutboundDeps,
  offerId: number,
  channelId: string,
  counters: RealtimeCounters,
): Promise<void> {
  const entries = Object.entries(counters).filter(([, n]) => (n ?? 0) > 0);
  if (entries.length === 0) return;
  const add = Object.fromEntries(entries);
  await deps.pool.query(
    `INSERT INTO interaction_log (offer_id, channel_id, level, message, data, hour, at)
     VALUES ($1, $2, 'info', 'realtime activity', $3::jsonb, date_trunc('hour', now()), now())
     ON CONFLICT (offer_id, hour) DO UPDATE SET at = now(), data = (
       SELECT jsonb_object_agg(key, COALESCE((interaction_log.data ->> key)::bigint, 0)
                                  + COALESCE((EXCLUDED.data ->> key)::bigint, 0))
       FROM (SELECT jsonb_object_keys(interaction_log.data || EXCLUDED.data) AS key) keys
     )`,
    [offerId, channelId, JSON.stringify(add)],
  );
}
