import { type LuxSciClient, type ReportRow, SERVER_CLOCK_UNCERTAINTY_MS } from "@luxrelay/luxsci";

// docs/architecture.md "Exactly once": what LuxSci's sent report already holds of some chids
// (settle.ts decides when that answer can be trusted). The chid filter is the execution's prefix
// and the window starts a little before the unsettled call, so the scan covers only what this
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

/**
 * chid -> sendmail id, for the given chids that LuxSci's sent report already holds, and
 * LuxSci's time when the report was read: the first page's reply, less the clock's
 * uncertainty, so every row of the read was computed at or after it.
 */
export async function findAlreadySent(
  client: LuxSciClient,
  options: { chidPrefix: string; afterDate: Date; chids: ReadonlySet<string> },
): Promise<{ found: Map<string, string>; readFrom: Date | undefined }> {
  const found = new Map<string, string>();
  let readFrom: Date | undefined;
  if (options.chids.size === 0) return { found, readFrom };
  const pages = client.iterateReport("sent", {
    afterDate: options.afterDate,
    header1: { name: "chid", operator: "like", value: options.chidPrefix },
  });
  for await (const page of pages) {
    if (readFrom === undefined) {
      const now = client.serverNow();
      readFrom = now && new Date(now.getTime() - SERVER_CLOCK_UNCERTAINTY_MS);
    }
    for (const row of page.rows) {
      const chid = trackedHeaderValue(row, "chid");
      if (chid !== null && options.chids.has(chid) && !found.has(chid)) {
        found.set(chid, String(row.sendmail_id));
      }
    }
  }
  return { found, readFrom };
}
