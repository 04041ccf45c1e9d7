import type { ReportKind, ReportRow } from "@luxrelay/luxsci";
import type { SyncDeps } from "../context.ts";
import { importReportRows } from "../import/import-rows.ts";
import { channelTimezone, chidFilter, loadChannel, REPORT_KINDS } from "./channel.ts";
import { importLuxSciSuppressions } from "./suppression-list.ts";
import { advanceWatermark, queryStart } from "./watermark.ts";

// Seed 000 inbound step 1 in API mode: every report of the channel, page by page (≤ 50,000
// rows), from its watermark, filtered by the chid header; each page is stored before the next
// is asked for, and the watermark moves once the whole report has been read.

export interface KindResult {
  kind: ReportKind;
  pages: number;
  offered: number;
  inserted: number;
  notOurs: number;
  rejected: number;
}

export interface ApiSyncResult {
  channelId: string;
  kinds: KindResult[];
  suppressions: { listed: number; added: number };
}

/** Report pages stored per import transaction in API mode (50,000 rows a page at most). */
export const PAGES_PER_IMPORT = 4;

export type SyncProgress = (progress: {
  kind: ReportKind;
  pages: number;
  rows: number;
}) => Promise<void> | void;

export async function syncChannelByApi(
  deps: SyncDeps,
  channelId: string,
  options: { pageSize?: number; progress?: SyncProgress } = {},
): Promise<ApiSyncResult> {
  const channel = await loadChannel(deps, channelId);
  const client = deps.luxsci(channel);
  const timezone = channelTimezone(channel);
  const kinds: KindResult[] = [];
  for (const kind of REPORT_KINDS) {
    const afterDate = await queryStart(deps, channelId, kind, timezone);
    const result: KindResult = { kind, pages: 0, offered: 0, inserted: 0, notOurs: 0, rejected: 0 };
    let newest: Date | null = null;
    const pages = client
      .iterateReport(kind, { afterDate, header1: chidFilter(channelId), matches: options.pageSize })
      [Symbol.asyncIterator]();
    let exhausted = false;
    while (!exhausted) {
      // Up to PAGES_PER_IMPORT pages per import (one transaction): the offer history and
      // engagement passes run once per chunk, not once per page. Pages are still fetched one
      // at a time and streamed into the import.
      let pagesInChunk = 0;
      let firstRow = -1;
      async function* chunk() {
        while (pagesInChunk < PAGES_PER_IMPORT) {
          const next = await pages.next();
          if (next.done) {
            exhausted = true;
            return;
          }
          const page = next.value;
          if (firstRow < 0) firstRow = page.firstRow;
          pagesInChunk++;
          for (let i = 0; i < page.rows.length; i++) {
            yield { line: page.firstRow + i + 1, row: page.rows[i] as ReportRow };
          }
        }
      }
      const imported = await importReportRows(deps, {
        channelId,
        kind,
        rows: chunk(),
        source: `${kind} report`,
        timezone,
      });
      if (pagesInChunk === 0) break;
      result.pages += pagesInChunk;
      result.offered += imported.offered;
      result.inserted += imported.inserted;
      result.notOurs += imported.notOurs;
      result.rejected += imported.rejected;
      if (imported.maxOccurredAt && (!newest || imported.maxOccurredAt > newest)) {
        newest = imported.maxOccurredAt;
      }
      for (const problem of imported.problems.slice(0, 20)) {
        deps.logger.warn({ channelId, kind, ...problem }, "report row rejected");
      }
      await options.progress?.({ kind, pages: result.pages, rows: result.offered });
    }
    if (newest) await advanceWatermark(deps, channelId, kind, newest);
    kinds.push(result);
  }
  const suppressions = await importLuxSciSuppressions(deps, channelId, client);
  deps.logger.info({ channelId, kinds, suppressions }, "channel synced (API)");
  return { channelId, kinds, suppressions };
}
