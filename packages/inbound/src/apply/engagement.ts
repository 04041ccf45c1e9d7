import type pg from "pg";
import { type CopyCell, copyIntoTempTable, type TempColumn } from "../import/copy-stage.ts";
import { fromEpochMs } from "../import/epoch-ms.ts";
import type { EngagementCounts } from "../metrics/contact-engagement.ts";
import type { AddressSums } from "./aggregate.ts";

// contact_engagement (prisma/schema.prisma): per (channel, lowercased email) counters, first
// and last activity and opens/clicks by UTC hour of day, in the spirit of seed 002's activity
// import. Maintained incrementally from new events only: each is summed once (apply/), so
// adding is exact and no contact's history has to be read back. Hour histograms are int[24]
// (index 0 = 00:00-00:59 UTC); the peak hour is stored so segments can filter on it.
// An updated row's merged histogram and peak are plain expressions over the 24 cells,
// computed once per row (a sub-select feeds them to the peak), no lookups per cell: one apply
// can touch a million addresses. A new row's peaks come with its sums (peakHour).

const HOURS = Array.from({ length: 24 }, (_, hour) => hour);
const COUNTERS: readonly (keyof EngagementCounts)[] = [
  "sent",
  "delivered",
  "opened",
  "clicked",
  "failed",
  "complaint",
  "unsubscribed",
];
const HISTOGRAMS = ["open", "click"] as const;
const SUMS_TABLE = "lr_apply_addresses";
const SUMS_COLUMNS: readonly TempColumn[] = [
  ["email", "text NOT NULL"],
  ...COUNTERS.map((n): TempColumn => [n, "integer NOT NULL"]),
  ["first_ms", "bigint NOT NULL"],
  ["last_ms", "bigint NOT NULL"],
  ...HISTOGRAMS.map((h): TempColumn => [`${h}_hours`, "integer[]"]),
  ...HISTOGRAMS.map((h): TempColumn => [`${h}_peak`, "smallint"]),
];

/**
 * The earliest most common hour of `hours`, null when it has no event: what withPeak gives in
 * SQL, here for the rows that are inserted (their histogram is the new one).
 */
export function peakHour(hours: Int32Array | null): number | null {
  if (hours === null) return null;
  let peak: number | null = null;
  let top = 0;
  for (let hour = 0; hour < hours.length; hour++) {
    const count = hours[hour] ?? 0;
    if (count > top) {
      top = count;
      peak = hour;
    }
  }
  return peak;
}

/** An Int32Array as a PostgreSQL int[] literal, or null. */
function intArray(cells: Int32Array | null): string | null {
  return cells === null ? null : `{${cells.join(",")}}`;
}

function sumsRow(sums: AddressSums): CopyCell[] {
  return [
    sums.email,
    ...COUNTERS.map((counter) => sums[counter]),
    sums.firstMs,
    sums.lastMs,
    intArray(sums.openHours),
    intArray(sums.clickHours),
    peakHour(sums.openHours),
    peakHour(sums.clickHours),
  ];
}

/**
 * `hours` and its peak (the earliest most common hour, null when all are 0) as a two-column
 * sub-select, so that the 24 cells of `hours` (an expression) are computed once, not once per
 * use: the peak needs them three times.
 */
function withPeak(hours: string): string {
  const cells = HOURS.map((h) => `a.hours[${h + 1}]`).join(", ");
  return `(SELECT b.hours, CASE WHEN b.top > 0 THEN (array_position(b.hours, b.top) - 1)::smallint END
             FROM (SELECT a.hours, GREATEST(${cells}) AS top
                     FROM (SELECT ${hours} AS hours OFFSET 0) a OFFSET 0) b)`;
}

/** The stored histogram `h` plus the new one, cell by cell; the stored one when none is new. */
function mergedHours(h: (typeof HISTOGRAMS)[number]): string {
  const cells = HOURS.map((i) => `COALESCE(c.${h}_hours[${i + 1}], 0) + g.${h}_hours[${i + 1}]`);
  return `CASE WHEN g.${h}_hours IS NULL THEN c.${h}_hours ELSE ARRAY[${cells.join(", ")}] END`;
}

/**
 * Applies the new events' sums per address to the channel's contact_engagement rows.
 *
 * The sums are COPYed into a temp table; then existing rows are UPDATEd and missing ones
 * INSERTed in one statement: cheaper than INSERT ... ON CONFLICT DO UPDATE, which probes the
 * key and locks (a WAL record) before updating every row. Safe without ON CONFLICT because the
 * rows are the channel's and its applies are serialised (an advisory lock); were a row
 * inserted meanwhile anyway, the INSERT's key violation fails the apply, which is retried. The
 * rows to insert are the sums the UPDATE did not return (no second probe of the key, which on
 * a much-updated table visits every dead version). Returns how many rows were created.
 */
export async function applyEngagement(
  client: pg.ClientBase,
  channelId: string,
  addresses: Iterable<AddressSums>,
): Promise<number> {
  const copied = await copyIntoTempTable(client, SUMS_TABLE, SUMS_COLUMNS, addresses, sumsRow);
  if (copied === 0) return 0;
  const zeros = `'{${HOURS.map(() => 0).join(",")}}'::int[]`;
  const result = await client.query(
    `WITH g AS (
       SELECT s.*,
              ${fromEpochMs("s.first_ms")} AS first_event_at,
              ${fromEpochMs("s.last_ms")} AS last_event_at
         FROM ${SUMS_TABLE} s
     ), updated AS (
       UPDATE contact_engagement c SET
         ${COUNTERS.map((n) => `${n} = c.${n} + g.${n}`).join(",\n         ")},
         first_event_at = LEAST(c.first_event_at, g.first_event_at),
         last_event_at = GREATEST(c.last_event_at, g.last_event_at),
         ${HISTOGRAMS.map((h) => `(${h}_hours, ${h}_peak_hour) = ${withPeak(mergedHours(h))}`).join(",\n         ")},
         updated_at = now()
         FROM g
        WHERE c.channel_id = $1 AND c.email = g.email
       RETURNING c.email
     )
     INSERT INTO contact_engagement (channel_id, email, ${COUNTERS.join(", ")}, first_event_at,
                                     last_event_at, open_hours, open_peak_hour, click_hours,
                                     click_peak_hour, updated_at)
     SELECT $1, g.email, ${COUNTERS.map((n) => `g.${n}`).join(", ")}, g.first_event_at,
            g.last_event_at, COALESCE(g.open_hours, ${zeros}), g.open_peak,
            COALESCE(g.click_hours, ${zeros}), g.click_peak, now()
       FROM g
      WHERE g.email NOT IN (SELECT email FROM updated)`,
    [channelId],
  );
  return result.rowCount ?? 0;
}
