import type { ReportKind } from "@luxrelay/luxsci";
import type pg from "pg";
import { NEW_EVENTS_TABLE } from "./stage.ts";

// contact_engagement (prisma/schema.prisma): per (channel, lowercased email) counters, first
// and last activity and opens/clicks by UTC hour of day, in the spirit of seed 002's activity
// import. Maintained incrementally from the newly inserted events only: email_event's unique
// key makes each event new exactly once, so adding is exact and no contact's history has to
// be read back. Hour histograms are int[24] (index 0 = 00:00-00:59 UTC); the peak hour is
// stored so segments can filter on it. Everything is plain expressions over the 24 cells,
// no per-row subqueries: a page of 50,000 opens can touch 40,000 contacts.

const HOURS = Array.from({ length: 24 }, (_, hour) => hour);

/** Which histogram a report kind feeds, and with which event type. */
const HISTOGRAM: Partial<Record<ReportKind, { column: "open" | "click"; type: string }>> = {
  opens: { column: "open", type: "opened" },
  clicks: { column: "click", type: "clicked" },
};

/** A dense int[24] of the rows' hours, counted by 24 filtered aggregates. */
function hourHistogram(): string {
  return `ARRAY[${HOURS.map((h) => `count(*) FILTER (WHERE hour = ${h})`).join(", ")}]::int[]`;
}

/** The earliest most common hour of 24 cell expressions; null when all are 0. */
function peakHour(cells: string[]): string {
  const max = `GREATEST(${cells.join(", ")})`;
  return `CASE WHEN ${max} > 0 THEN (array_position(ARRAY[${cells.join(", ")}], ${max}) - 1)::smallint END`;
}

/**
 * Upserts the engagement rows of the addresses among the new events of one import of
 * `kind` (only opens and clicks touch a histogram, so only they pay for one).
 */
export async function upsertEngagement(
  client: pg.ClientBase,
  channelId: string,
  kind: ReportKind,
): Promise<number> {
  const histogram = HISTOGRAM[kind]?.column;
  const hour = HISTOGRAM[kind]
    ? `CASE WHEN type = '${HISTOGRAM[kind].type}' THEN extract(hour FROM occurred_at AT TIME ZONE 'UTC')::int END`
    : "NULL::int";
  const insertHist = histogram ? `, ${histogram}_hours, ${histogram}_peak_hour` : "";
  const selectHist = histogram
    ? `, g.hours, ${peakHour(HOURS.map((h) => `g.hours[${h + 1}]`))}`
    : "";
  const aggregateHist = histogram ? `, ${hourHistogram()} AS hours` : "";
  const merged = histogram
    ? HOURS.map(
        (h) =>
          `COALESCE(c.${histogram}_hours[${h + 1}], 0) + EXCLUDED.${histogram}_hours[${h + 1}]`,
      )
    : [];
  const updateHist = histogram
    ? `, ${histogram}_hours = ARRAY[${merged.join(", ")}],
       ${histogram}_peak_hour = ${peakHour(merged)}`
    : "";
  const result = await client.query(
    `INSERT INTO contact_engagement AS c (channel_id, email, sent, delivered, opened, clicked,
                                          failed, complaint, unsubscribed, first_event_at,
                                          last_event_at, updated_at${insertHist})
     SELECT $1, g.email, g.sent, g.delivered, g.opened, g.clicked, g.failed, g.complaint,
            g.unsubscribed, g.first_event_at, g.last_event_at, now()${selectHist}
       FROM (SELECT email,
                    count(*) FILTER (WHERE type = 'sent') AS sent,
                    count(*) FILTER (WHERE type = 'delivered') AS delivered,
                    count(*) FILTER (WHERE type = 'opened') AS opened,
                    count(*) FILTER (WHERE type = 'clicked') AS clicked,
                    count(*) FILTER (WHERE type IN ('failed', 'hard_fail', 'spam')) AS failed,
                    count(*) FILTER (WHERE type = 'complaint') AS complaint,
                    count(*) FILTER (WHERE type = 'unsubscribed') AS unsubscribed,
                    min(occurred_at) AS first_event_at,
                    max(occurred_at) AS last_event_at${aggregateHist}
               FROM (SELECT email, type, occurred_at,
                            ${hour} AS hour
                       FROM ${NEW_EVENTS_TABLE}
                      WHERE email IS NOT NULL AND email <> '') e
              GROUP BY email) g
     ON CONFLICT (channel_id, email) DO UPDATE SET
       sent = c.sent + EXCLUDED.sent,
       delivered = c.delivered + EXCLUDED.delivered,
       opened = c.opened + EXCLUDED.opened,
       clicked = c.clicked + EXCLUDED.clicked,
       failed = c.failed + EXCLUDED.failed,
       complaint = c.complaint + EXCLUDED.complaint,
       unsubscribed = c.unsubscribed + EXCLUDED.unsubscribed,
       first_event_at = LEAST(c.first_event_at, EXCLUDED.first_event_at),
       last_event_at = GREATEST(c.last_event_at, EXCLUDED.last_event_at),
       updated_at = now()${updateHist}`,
    [channelId],
  );
  return result.rowCount ?? 0;
}
