import { type ReportKind, SERVER_CLOCK_UNCERTAINTY_MS } from "@luxrelay/luxsci";
import type { SyncDeps } from "../context.ts";

// sync_watermark: how far each report of a channel has been read. Moved only after the rows
// that reach it are stored, and never past what LuxSci could already show when it was read
// (its own time less the report lag), so neither a crash nor a row LuxSci dates ahead of its
// clock makes a later read skip rows. Each read starts the overlap before the watermark; every
// SYNC_RESCAN_INTERVAL_SECONDS it starts SYNC_RESCAN_WINDOW_SECONDS before instead (a re-scan),
// for rows LuxSci shows later than its lag promises. Re-read rows add nothing (unique key).

/** The first sync of a channel reads this far back. */
const FIRST_SYNC_LOOKBACK_MS = 30 * 86_400_000;

/** The widest offset of any timezone from UTC. */
const MAX_ZONE_OFFSET_MS = 14 * 3_600_000;

export interface ReportRead {
  /** The after_date to ask LuxSci for. */
  afterDate: Date;
  /** Whether this read is a re-scan (to record once its rows are stored). */
  rescan: boolean;
}

/**
 * Where the next read of a report starts: the watermark less the overlap, or less the re-scan
 * window when the report's last re-scan is SYNC_RESCAN_INTERVAL_SECONDS old (PostgreSQL's
 * clock: this only schedules re-reads). A channel's first read reaches further back than any
 * re-scan and counts as one. With the timezone override LuxSci's dates are local wall times,
 * so the read reaches back a whole zone offset more.
 */
export async function planReportRead(
  deps: SyncDeps,
  channelId: string,
  kind: ReportKind,
  timezone: string | null = null,
): Promise<ReportRead> {
  const { overlapMs, rescanIntervalMs, rescanWindowMs } = deps.settings;
  const { rows } = await deps.pool.query<{ after_date: Date; rescan_due: boolean }>(
    `SELECT after_date,
            rescanned_at IS NULL OR rescanned_at <= now() - $3::float8 * interval '1 millisecond'
              AS rescan_due
       FROM sync_watermark WHERE channel_id = $1 AND report_type = $2`,
    [channelId, kind, rescanIntervalMs],
  );
  const zoneMs = timezone ? MAX_ZONE_OFFSET_MS : 0;
  const row = rows[0];
  if (!row) {
    return { afterDate: new Date(Date.now() - FIRST_SYNC_LOOKBACK_MS - zoneMs), rescan: true };
  }
  const back = row.rescan_due ? Math.max(rescanWindowMs, overlapMs) : overlapMs;
  return { afterDate: new Date(row.after_date.getTime() - back - zoneMs), rescan: row.rescan_due };
}

/**
 * The furthest a watermark may move after a read LuxSci served at `servedAt` (its own time,
 * from the Date header of its reply; never a host clock): rows dated later may not show yet.
 * Null when LuxSci's time is unknown (no Date header): the watermark then stays.
 */
export function watermarkLimit(servedAt: Date | null | undefined, reportLagMs: number) {
  if (!servedAt) return null;
  return new Date(servedAt.getTime() - reportLagMs - SERVER_CLOCK_UNCERTAINTY_MS);
}

export interface WatermarkMove {
  /** The newest row date of the read (any row, ours or not); null when it had none. */
  newest: Date | null;
  /** watermarkLimit of the read; null: the watermark does not move. */
  limit: Date | null;
  /** The read was a re-scan: recorded as the report's latest. */
  rescan: boolean;
}

/**
 * After a read's rows are stored: the watermark moves forward to its newest row, but not past
 * `limit`; a watermark already past `limit` (a row dated ahead, stored before this cap
 * existed) is brought back to it. A re-scan is recorded even when the watermark stays.
 */
export async function advanceWatermark(
  deps: SyncDeps,
  channelId: string,
  kind: ReportKind,
  move: WatermarkMove,
): Promise<void> {
  const { newest, limit, rescan } = move;
  const to = newest && limit ? new Date(Math.min(newest.getTime(), limit.getTime())) : null;
  if (to) {
    await deps.pool.query(
      `INSERT INTO sync_watermark (channel_id, report_type, after_date, rescanned_at, updated_at)
       VALUES ($1, $2, $3, CASE WHEN $5 THEN now() END, now())
       ON CONFLICT (channel_id, report_type) DO UPDATE
         SET after_date = LEAST(GREATEST(sync_watermark.after_date, EXCLUDED.after_date), $4),
             rescanned_at = COALESCE(EXCLUDED.rescanned_at, sync_watermark.rescanned_at),
             updated_at = now()`,
      [channelId, kind, to, limit, rescan],
    );
    return;
  }
  // Nothing to move to: only a cap (when LuxSci's time is known) and the re-scan to record.
  await deps.pool.query(
    `UPDATE sync_watermark
        SET after_date = LEAST(after_date, COALESCE($3, after_date)),
            rescanned_at = CASE WHEN $4 THEN now() ELSE rescanned_at END,
            updated_at = now()
      WHERE channel_id = $1 AND report_type = $2`,
    [channelId, kind, limit, rescan],
  );
}
