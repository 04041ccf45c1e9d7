import type { LuxSciClient, ReportRow } from "@luxrelay/luxsci";

// DESIGN "Exactly once": what LuxSci's sent report already holds of some chids (settle.ts
// decides when that answer can be trusted). The chid filter is the execution's prefix and the
// window starts a little before the unsettled call, so the scan covers only what this
// execution sent since then.

/** The value of a tracked header on a report row (header1..header3 / headerN_value). */
export function trackedHeaderValue(row: ReportRow, name: string): string | null {
  for (let n = 1; n <= 3; n++) {
    if (String(row[`header${n}`] ?? "").toLowerCase() === name) {
      const value = row[`header${n}_value`];
      return value === null || value === undefined ? null : String(value);
    }
  }
  return null;
}

/** chid -> sendmail id, for the given chids that LuxSci's sent report already holds. */
export async function findAlreadySent(
  client: LuxSciClient,
  options: { chidPrefix: string; afterDate: Date; chids: ReadonlySet<string> },
): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  if (options.chids.size === 0) return found;
  const rows = client.iterateReportRows("sent", {
    afterDate: options.afterDate,
    header1: { name: "chid", operator: "like", value: options.chidPrefix },
  });
  for await (const row of rows) {
    const chid = trackedHeaderValue(row, "chid");
    if (chid !== null && options.chids.has(chid) && !found.has(chid)) {
      found.set(chid, String(row.sendmail_id));
    }
  }
  return found;
}
