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
