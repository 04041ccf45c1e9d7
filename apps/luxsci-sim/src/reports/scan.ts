import { DELIVERED, detailEvents, type EventDetails, type EventModel } from "../events.ts";
import type { Ledger } from "../ledger.ts";
import { shownDateMs, shuffledOrder } from "./disorder.ts";
import type { ReportKind } from "./headers.ts";
import type { ReportQuery } from "./query.ts";
import type { ReportSettings } from "./settings.ts";

// Walks the ledger in send order and yields the rows of one report that are visible now
// (an event shows once its time plus the report lag has passed on the simulated clock) and
// pass the filters. Order is ledger index (with shuffleReports, a fixed permutation of it),
// then event ordinal: stable, so first_row paging sees every row once.

export interface RowRef {
  index: number;
  /** Which open/click of the message (0 for other reports). */
  ordinal: number;
  /** The date the row shows (a "future" row's is ahead of its event, see disorder.ts). */
  dateMs: number;
  details: EventDetails | undefined;
}

export interface ScanContext {
  ledger: Ledger;
  model: EventModel;
  accountIndex: number;
  trackedHeaders: readonly string[];
  nowMs: number;
  /** Taken with nowMs: an export's rows keep the settings of their preparation. */
  report: ReportSettings;
}

// Dates compare at second precision, as shown in the reports.
const seconds = (ms: number) => Math.floor(ms / 1000) * 1000;

function inWindow(query: ReportQuery, dateMs: number): boolean {
  const at = seconds(dateMs);
  return (
    (query.afterMs === undefined || at >= query.afterMs) &&
    (query.beforeMs === undefined || at < query.beforeMs)
  );
}

/** Events at or before this time are in the reports (LuxSci builds them asynchronously). */
export function visibleUntilMs(context: ScanContext): number {
  return context.nowMs - context.report.reportLagMs;
}

export function* scanReport(
  kind: ReportKind,
  query: ReportQuery,
  context: ScanContext,
): Generator<RowRef> {
  const { ledger, model, accountIndex, trackedHeaders, report } = context;
  const visibleMs = visibleUntilMs(context);
  const filters = query.filters.map((filter) => ({
    name: trackedHeaders[filter.position] as string,
    test: filter.test,
  }));
  const order = report.shuffleReports ? shuffledOrder(ledger.length, model.seed) : undefined;
  for (let k = 0; k < ledger.length; k++) {
    const i = order ? (order[k] as number) : k;
    if (ledger.accountIndex[i] !== accountIndex || ledger.sandbox[i] === 1) continue;
    let pass = true;
    for (const filter of filters) {
      if (!filter.test(ledger.headerValue(i, filter.name))) {
        pass = false;
        break;
      }
    }
    if (!pass) continue;
    const sentAt = ledger.sentAtMs[i] as number;
    if (kind === "sent") {
      if (sentAt <= visibleMs && inWindow(query, sentAt)) {
        yield { index: i, ordinal: 0, dateMs: sentAt, details: undefined };
      }
      continue;
    }
    const deliveredAt = sentAt + (ledger.deliveryMs[i] as number);
    if (deliveredAt > visibleMs) continue;
    if (kind === "delivery") {
      const dateMs = shownDateMs(kind, deliveredAt, ledger, i, 0, model.seed, report);
      if (inWindow(query, dateMs)) yield { index: i, ordinal: 0, dateMs, details: undefined };
      continue;
    }
    if (kind === "fbl") {
      const fbl = ledger.fblMs[i] as number;
      if (fbl >= 0 && sentAt + fbl <= visibleMs && inWindow(query, sentAt + fbl)) {
        yield { index: i, ordinal: 0, dateMs: sentAt + fbl, details: undefined };
      }
      continue;
    }
    if (ledger.status[i] !== DELIVERED) continue;
    const count = kind === "opens" ? ledger.opens[i] : ledger.clicks[i];
    if (!count) continue;
    const details = detailEvents(model, ledger.sendmailId(i), ledger.toOf(i), sentAt);
    const events = kind === "opens" ? details.openEvents : details.clickEvents;
    for (let e = 0; e < events.length; e++) {
      const at = sentAt + (events[e]?.afterMs as number);
      if (at > visibleMs) continue;
      const dateMs = shownDateMs(kind, at, ledger, i, e, model.seed, report);
      if (inWindow(query, dateMs)) yield { index: i, ordinal: e, dateMs, details };
    }
  }
}

/** One page: the rows from first_row, at most `matches`, and the total count. */
export function pageReport(
  kind: ReportKind,
  query: ReportQuery,
  context: ScanContext,
): { total: number; refs: RowRef[] } {
  const refs: RowRef[] = [];
  const end =
    query.matches === undefined ? Number.POSITIVE_INFINITY : query.firstRow + query.matches;
  let total = 0;
  for (const ref of scanReport(kind, query, context)) {
    if (total >= query.firstRow && total < end) refs.push(ref);
    total++;
  }
  return { total, refs };
}
