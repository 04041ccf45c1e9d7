import type { ReportKind } from "@luxrelay/luxsci";
import type { SyncDeps } from "../context.ts";

// sync_watermark: how far each report of a channel has been read. Moved only after the rows
// that reach it are stored, and only forward, so a crash re-reads rather than skips.

/** The first sync of a channel reads this far back. */
const FIRST_SYNC_LOOKBACK_MS = 30 * 86_400_000;

export async function readWatermark(
  deps: SyncDeps,
  channelId: string,
  kind: ReportKind,
): Promise<Date> {
  const { rows } = await deps.pool.query<{ after_date: Date }>(
    "SELECT after_date FROM sync_watermark WHERE channel_id = $1 AND report_type = $2",
    [channelId, kind],
  );
  return rows[0]?.after_date ?? new Date(Date.now() - FIRST_SYNC_LOOKBACK_MS);
}

/** The widest offset of any timezone from UTC. */
const MAX_ZONE_OFFSET_MS = 14 * 3_600_000;

/**
 * The after_date to ask LuxSci for: the watermark less the overlap. With the timezone override
 * LuxSci's dates are local wall times, so the query reaches back a whole zone offset more
 * (re-read rows are ignored by the unique key).
 */
export async function queryStart(
  deps: SyncDeps,
  channelId: string,
  kind: ReportKind,
  timezone: string | null = null,
): Promise<Date> {
  const watermark = await readWatermark(deps, channelId, kind);
  const back = deps.settings.overlapMs + (timezone ? MAX_ZONE_OFFSET_MS : 0);
  return new Date(watermark.getTime() - back);
}

export async function advanceWatermark(
  deps: SyncDeps,
  channelId: string,
  kind: ReportKind,
  to: Date,
): Promise<void> {
  await deps.pool.query(
    `INSERT INTO sync_watermark (channel_id, report_type, after_date, updated_at)
     VALUES ($1, $2, $3, now())
     ON CONFLICT (channel_id, report_type) DO UPDATE
       SET after_date = GREATEST(sync_watermark.after_date, EXCLUDED.after_date), updated_at = now()`,
    [channelId, kind, to],
  );
}
