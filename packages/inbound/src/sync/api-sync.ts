import type { LuxSciClient, ReportKind, ReportRow } from "@luxrelay/luxsci";
import type { ApplyResult } from "../apply/apply-events.ts";
import { applyInBackground, type BackgroundApply } from "../apply/apply-in-background.ts";
import type { SyncDeps } from "../context.ts";
import { importReportRows } from "../import/import-rows.ts";
import { OccurrenceCounter } from "../import/occurrences.ts";
import type { ImportResult, SourcedRow } from "../import/types.ts";
import { channelTimezone, chidFilter, loadChannel, REPORT_KINDS } from "./channel.ts";
import { importLuxSciSuppressions } from "./suppression-list.ts";
import { advanceWatermark, planReportRead, watermarkLimit } from "./watermark.ts";

// Seed 000 inbound step 1 in API mode: every report of the channel, page by page (≤ 50,000
// rows), from its watermark (or further back, on a re-scan: watermark.ts), filtered by the
// chid header; the watermark moves once the whole report has been read and stored, to its
// newest row but never past LuxSci's time when it served the report's first page less the
// report lag (rows dated later may not show yet). Two imports are under way at a time, across
// reports: the next pages (of this report or the next) are fetched, parsed and staged while
// the rows before are inserted (an import waits for the channel's lock only to insert); an
// import takes its connection only once its pages are fetched. Stored
// events are applied (offer history, suppression, engagement) and published in the background
// as the imports go (apply/), and once more at the end for the last of them.

export interface KindResult {
  kind: ReportKind;
  pages: number;
  offered: number;
  inserted: number;
  notOurs: number;
  rejected: number;
  /** The read was a re-scan (from the watermark less SYNC_RESCAN_WINDOW_SECONDS). */
  rescan: boolean;
}

export interface ApiSyncResult {
  channelId: string;
  kinds: KindResult[];
  /** The apply step after the reports: events applied and published. */
  applied: ApplyResult;
  suppressions: { listed: number; added: number };
}

/**
 * Report pages stored per import transaction in API mode (50,000 rows a page at most): two
 * imports overlap (one parses while the other inserts), so smaller ones overlap better; on
 * the bench 2 beat 4 by a few seconds per million events, and 1 was no better.
 */
export const PAGES_PER_IMPORT = 2;

export type SyncProgress = (progress: {
  kind: ReportKind;
  pages: number;
  rows: number;
}) => Promise<void> | void;

/** Imports under way at a time, across reports: one parses while the other inserts. */
const IMPORTS_UNDER_WAY = 2;

interface ReportSync {
  deps: SyncDeps;
  client: LuxSciClient;
  channelId: string;
  timezone: string | null;
  applying: BackgroundApply;
  /** The imports under way (of any report), oldest first. */
  underWay: Promise<void>[];
  pageSize?: number;
  progress?: SyncProgress;
}

/**
 * Reads one report from its watermark and starts the imports of its pages; returns once every
 * page is read, with the report's figures and `stored`, which settles once its imports have
 * and its watermark has moved. So the next report's pages are read and parsed while this
 * one's last import inserts.
 */
async function syncReport(
  sync: ReportSync,
  kind: ReportKind,
): Promise<{ result: KindResult; stored: Promise<void> }> {
  const { deps, channelId, timezone } = sync;
  const plan = await planReportRead(deps, channelId, kind, timezone);
  const result: KindResult = {
    kind,
    pages: 0,
    offered: 0,
    inserted: 0,
    notOurs: 0,
    rejected: 0,
    rescan: plan.rescan,
  };
  let newest: Date | null = null;
  const pages = sync.client
    .iterateReport(kind, {
      afterDate: plan.afterDate,
      header1: chidFilter(channelId),
      matches: sync.pageSize,
    })
    [Symbol.asyncIterator]();
  let exhausted = false;
  // LuxSci's time (from its replies' Date header) once it served the first page: every row
  // dated before this less the report lag showed then, and pages after the first only add
  // rows that showed later (LuxSci's row order is stable), so none of those is skipped.
  let servedAt: Date | undefined;
  // Identical opens or clicks are numbered across the whole read, whichever import they are in.
  const occurrences = new OccurrenceCounter();

  const record = async (imported: ImportResult, pagesInChunk: number) => {
    sync.applying.nudge();
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
    await sync.progress?.({ kind, pages: result.pages, rows: result.offered });
  };

  /**
   * Fetches the next PAGES_PER_IMPORT pages, then starts their import. The pages are in memory
   * before the import takes a connection: a page fetch may back off for minutes (LuxSci's
   * retries), and no pooled connection or open transaction may wait on it.
   */
  const importChunk = async (): Promise<{ imported: Promise<void> } | null> => {
    const rows: SourcedRow[] = [];
    let pagesInChunk = 0;
    while (pagesInChunk < PAGES_PER_IMPORT) {
      const next = await pages.next();
      servedAt ??= sync.client.serverNow();
      if (next.done) {
        exhausted = true;
        break;
      }
      const page = next.value;
      pagesInChunk++;
      for (let i = 0; i < page.rows.length; i++) {
        rows.push({ line: page.firstRow + i + 1, row: page.rows[i] as ReportRow });
      }
    }
    if (pagesInChunk === 0) return null;
    const imported = importReportRows(deps, {
      channelId,
      kind,
      rows,
      source: `${kind} report`,
      timezone,
      occurrences,
    }).then((result) => record(result, pagesInChunk));
    return { imported };
  };

  // The next chunk is fetched as soon as this one's pages are in and fewer than
  // IMPORTS_UNDER_WAY imports are under way.
  const imports: Promise<void>[] = [];
  while (!exhausted) {
    const chunk = await importChunk();
    if (chunk === null) break;
    const { imported } = chunk;
    // Awaited below; a failure before then must not count as unhandled.
    imported.catch(() => undefined);
    sync.underWay.push(imported);
    imports.push(imported);
    if (sync.underWay.length >= IMPORTS_UNDER_WAY) await sync.underWay.shift();
  }
  const stored = Promise.all(imports).then(async () => {
    const limit = watermarkLimit(servedAt, deps.settings.reportLagMs);
    if (!limit) deps.logger.warn({ channelId, kind }, "LuxSci's time unknown: watermark stays");
    await advanceWatermark(deps, channelId, kind, { newest, limit, rescan: plan.rescan });
  });
  // Awaited by the caller; a failure before then must not count as unhandled.
  stored.catch(() => undefined);
  return { result, stored };
}

export async function syncChannelByApi(
  deps: SyncDeps,
  channelId: string,
  options: { pageSize?: number; progress?: SyncProgress } = {},
): Promise<ApiSyncResult> {
  const channel = await loadChannel(deps, channelId);
  const client = deps.luxsci.client(channel);
  const applying = applyInBackground(deps, channelId);
  const timezone = channelTimezone(channel);
  const sync: ReportSync = {
    deps,
    client,
    channelId,
    timezone,
    applying,
    underWay: [],
    ...options,
  };
  const kinds: KindResult[] = [];
  const stored: Promise<void>[] = [];
  // What was stored is applied even when a later report fails (its suppressions matter); the
  // failure is thrown after that, once every import under way has settled.
  let failure: unknown = null;
  try {
    for (const kind of REPORT_KINDS) {
      const report = await syncReport(sync, kind);
      kinds.push(report.result);
      stored.push(report.stored);
    }
    await Promise.all(stored);
  } catch (error) {
    failure = error;
  }
  await Promise.allSettled([...sync.underWay, ...stored]);
  const applied = await applying.finish();
  if (failure !== null) throw failure;
  const suppressions = await importLuxSciSuppressions(deps, channelId, client);
  deps.logger.info({ channelId, kinds, applied, suppressions }, "channel synced (API)");
  return { channelId, kinds, applied, suppressions };
}
