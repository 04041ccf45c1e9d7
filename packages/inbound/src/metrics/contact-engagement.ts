import type pg from "pg";

// Reads contact_engagement (maintained by the apply step, apply/engagement.ts).

/** contact_engagement's counters: an address's events of each kind. */
export interface EngagementCounts {
  sent: number;
  delivered: number;
  opened: number;
  clicked: number;
  /** hard_fail + failed + spam. */
  failed: number;
  complaint: number;
  unsubscribed: number;
}

export interface ContactEngagement extends EngagementCounts {
  channelId: string;
  email: string;
  firstEventAt: Date;
  lastEventAt: Date;
  /** Opens per UTC hour of day (24 counts). */
  openHours: number[];
  clickHours: number[];
  /** Most common UTC hour (0-23) of opens / clicks, the earliest on a tie; null with none. */
  openPeakHour: number | null;
  clickPeakHour: number | null;
}

/** The engagement of one address (matched lowercased) on a channel, or null if none yet. */
export async function getContactEngagement(
  pool: pg.Pool,
  channelId: string,
  email: string,
): Promise<ContactEngagement | null> {
  const { rows } = await pool.query<ContactEngagement>(
    `SELECT channel_id AS "channelId", email, sent, delivered, opened, clicked, failed,
            complaint, unsubscribed, first_event_at AS "firstEventAt",
            last_event_at AS "lastEventAt", open_hours AS "openHours",
            click_hours AS "clickHours", open_peak_hour AS "openPeakHour",
            click_peak_hour AS "clickPeakHour"
       FROM contact_engagement WHERE channel_id = $1 AND email = $2`,
    [channelId, email.trim().toLowerCase()],
  );
  return rows[0] ?? null;
}
