import type pg from "pg";
import { NEW_EVENTS_TABLE } from "./stage.ts";

// Seed 000 inbound step 9: HardFail, Failed and Spam fulfillment states go to the suppression
// table; complaints (feedback loop) and unsubscribes too, so that the next planning (outbound
// step 2) skips them without waiting for LuxSci's own suppression list (step 10).

/** The suppression source each event type files under. */
export const SUPPRESSION_SOURCES = {
  hard_fail: "hard_fail",
  failed: "failed",
  spam: "spam",
  complaint: "complaint",
  unsubscribed: "unsubscribe",
} as const;

const SOURCE_CASE = `CASE type ${Object.entries(SUPPRESSION_SOURCES)
  .map(([type, source]) => `WHEN '${type}' THEN '${source}'`)
  .join(" ")} END::suppression_source`;
const TYPES = `(${Object.keys(SUPPRESSION_SOURCES)
  .map((type) => `'${type}'`)
  .join(", ")})`;

/**
 * One suppression row per (lowercased email, source) among the new events, at the earliest
 * such event; an address already suppressed for that source keeps its first row.
 * Reason: the remote server's reply (details) or status for failures, the feedback type for
 * complaints.
 */
export async function insertSuppressions(
  client: pg.ClientBase,
  channelId: string,
): Promise<number> {
  const result = await client.query(
    `INSERT INTO suppression (email, source, reason, channel_id, at)
     SELECT DISTINCT ON (email, source) email, source, reason, $1, occurred_at
       FROM (SELECT email, ${SOURCE_CASE} AS source, occurred_at,
                    CASE WHEN type = 'complaint'
                           THEN 'Feedback loop complaint' || COALESCE(' (' || status || ')', '')
                         WHEN type = 'unsubscribed' THEN 'Unsubscribed (delivery report)'
                         ELSE COALESCE(details, status) END AS reason
               FROM ${NEW_EVENTS_TABLE}
              WHERE type IN ${TYPES} AND email IS NOT NULL AND email <> '') s
      ORDER BY email, source, occurred_at
     ON CONFLICT (email, source) DO NOTHING`,
    [channelId],
  );
  return result.rowCount ?? 0;
}
