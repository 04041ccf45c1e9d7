import { LuxSciClient, type ReportKind } from "@luxrelay/luxsci";
import type { Stack } from "./stack.ts";
import { ACCOUNT } from "./stack.ts";

// What the simulator's reports hold for a channel, and what luxrelay stored: the two sides
// an inbound test compares.

export const EVENT_TYPES_OF: Record<ReportKind, string[]> = {
  sent: ["sent"],
  delivery: ["delivered", "hard_fail", "failed", "spam"],
  opens: ["opened"],
  clicks: ["clicked"],
  fbl: ["complaint"],
};

/**
 * Events of each report for the channel's chids, read straight from the simulator: every row,
 * since luxrelay keeps every open and click (two of one message in the same second too), and
 * LuxSci lists a message's sent, delivery and fbl row once.
 */
export async function simulatorReportTotals(
  stack: Stack,
  channelId: string,
): Promise<Record<ReportKind, number>> {
  const client = new LuxSciClient({
    baseUrl: stack.sim.url,
    user: ACCOUNT.user,
    token: ACCOUNT.token,
    secret: ACCOUNT.secret,
  });
  const dateColumn: Record<ReportKind, string> = {
    sent: "date_sent",
    delivery: "last_updated",
    opens: "open_date",
    clicks: "click_date",
    fbl: "complaint_date",
  };
  try {
    const totals = {} as Record<ReportKind, number>;
    for (const kind of Object.keys(EVENT_TYPES_OF) as ReportKind[]) {
      let rows = 0;
      for await (const row of client.iterateReportRows(kind, {
        afterDate: new Date(Date.now() - 60 * 86_400_000),
        header1: { name: "chid", operator: "like", value: `_${channelId}` },
      })) {
        if (row[dateColumn[kind]]) rows += 1;
      }
      totals[kind] = rows;
    }
    return totals;
  } finally {
    await client.close();
  }
}

/** Stored events of the channel per report kind. */
export async function storedTotals(
  stack: Stack,
  channelId: string,
): Promise<Record<ReportKind, number>> {
  const { rows } = await stack.deps.pool.query<{ type: string; n: string }>(
    "SELECT type, count(*) AS n FROM email_event WHERE channel_id = $1 GROUP BY type",
    [channelId],
  );
  const byType = Object.fromEntries(rows.map((row) => [row.type, Number(row.n)]));
  const totals = {} as Record<ReportKind, number>;
  for (const [kind, types] of Object.entries(EVENT_TYPES_OF) as [ReportKind, string[]][]) {
    totals[kind] = types.reduce((n, type) => n + (byType[type] ?? 0), 0);
  }
  return totals;
}

const DATE_COLUMN: Record<ReportKind, string> = {
  sent: "date_sent",
  delivery: "last_updated",
  opens: "open_date",
  clicks: "click_date",
  fbl: "complaint_date",
};

const DELIVERY_TYPE: Record<string, string> = {
  Delivered: "delivered",
  HardFail: "hard_fail",
  Failed: "failed",
  Spam: "spam",
};

export interface EventRowComparison {
  /** Rows of the simulator's reports for the channel's chids, and events stored. */
  simulatorRows: number;
  storedEvents: number;
  /** Rows the simulator lists with no stored event (same report, sendmail id, type, date). */
  lost: number;
  /** Stored events beyond the simulator's rows: one imported twice, or never listed. */
  duplicates: number;
  /** Rows, and stored events, dated after `datedAfter` (future-dated rows). */
  simulatorDatedAfter: number;
  storedDatedAfter: number;
}

/**
 * Row by row, what simulatorReportTotals and storedTotals compare in sums: every row of the
 * simulator's reports for the channel (report, sendmail id, event type, date to the second) as a
 * multiset against the stored events, so one row stored twice and another lost can't cancel out.
 */
export async function compareEventRows(
  stack: Stack,
  channelId: string,
  options: { datedAfter?: Date } = {},
): Promise<EventRowComparison> {
  const datedAfterMs = options.datedAfter?.getTime() ?? Number.POSITIVE_INFINITY;
  const counts = new Map<string, number>();
  const client = new LuxSciClient({
    baseUrl: stack.sim.url,
    user: ACCOUNT.user,
    token: ACCOUNT.token,
    secret: ACCOUNT.secret,
  });
  let simulatorRows = 0;
  let simulatorDatedAfter = 0;
  try {
    for (const kind of Object.keys(EVENT_TYPES_OF) as ReportKind[]) {
      for await (const row of client.iterateReportRows(kind, {
        afterDate: new Date(Date.now() - 60 * 86_400_000),
        header1: { name: "chid", operator: "like", value: `_${channelId}` },
      })) {
        const date = row[DATE_COLUMN[kind]];
        if (!date) continue;
        const type =
          kind === "delivery"
            ? (DELIVERY_TYPE[String(row.status)] ?? `? ${row.status}`)
            : (EVENT_TYPES_OF[kind][0] as string);
        const ms = Date.parse(`${String(date).replace(" ", "T")}Z`);
        const key = `${type} ${row.sendmail_id} ${ms / 1000}`;
        counts.set(key, (counts.get(key) ?? 0) + 1);
        simulatorRows++;
        if (ms > datedAfterMs) simulatorDatedAfter++;
      }
    }
  } finally {
    await client.close();
  }
  const types = Object.values(EVENT_TYPES_OF).flat();
  const { rows } = await stack.deps.pool.query<{ key: string; at: string }>(
    `SELECT type || ' ' || sendmail_id || ' ' || floor(extract(epoch FROM occurred_at))::bigint AS key,
            (extract(epoch FROM occurred_at) * 1000)::float8 AS at
       FROM email_event WHERE channel_id = $1 AND type::text = ANY($2)`,
    [channelId, types],
  );
  let duplicates = 0;
  let storedDatedAfter = 0;
  for (const row of rows) {
    const left = counts.get(row.key) ?? 0;
    if (left > 0) counts.set(row.key, left - 1);
    else duplicates++;
    if (Number(row.at) > datedAfterMs) storedDatedAfter++;
  }
  let lost = 0;
  for (const left of counts.values()) lost += left;
  return {
    simulatorRows,
    storedEvents: rows.length,
    lost,
    duplicates,
    simulatorDatedAfter,
    storedDatedAfter,
  };
}
