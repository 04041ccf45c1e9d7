import { formatLuxSciDate } from "../dates.ts";
import type { Envelope } from "../errors/classify.ts";
import { type LuxSciHttp, ShapeError } from "../http.ts";
import type { LuxSciCell, ReportKind, ReportPage, ReportQuery, ReportRow } from "../types.ts";
import { MAX_REPORT_MATCHES, validatePaging } from "../validation.ts";

// Report pages (seed 000 inbound step 1). Rows come as arrays in the order of the reply's own
// `header`; they are keyed by it, never by position, because LuxSci's column order differs per
// report (clicks puts the tracked headers before sendmail_id) and may change.

export const REPORT_PATHS: Record<ReportKind, string> = {
  sent: "/report/email/smtp/sent",
  delivery: "/report/email/smtp/delivery",
  opens: "/report/email/smtp/opens",
  clicks: "/report/email/smtp/clicks",
  fbl: "/report/email/fbl",
};

/** Query parameters in seed 000's order; `matches` defaults to LuxSci's maximum. */
export function buildReportQuery(query: ReportQuery): URLSearchParams {
  const params = new URLSearchParams();
  params.set("tracked_headers", "true");
  params.set("first_row", String(query.firstRow ?? 0));
  params.set("matches", String(query.matches ?? MAX_REPORT_MATCHES));
  if (query.afterDate) params.set("after_date", formatLuxSciDate(query.afterDate));
  if (query.beforeDate) params.set("before_date", formatLuxSciDate(query.beforeDate));
  if (query.header1) {
    params.set("header1", query.header1.name);
    params.set("header1_operator", query.header1.operator);
    params.set("header1_value", query.header1.value);
  }
  return params;
}

/** Keys each row by `header`. A row whose length differs from the header breaks the contract. */
export function keyRows(header: readonly string[], rows: readonly unknown[]): ReportRow[] {
  return rows.map((row, index) => {
    if (!Array.isArray(row) || row.length !== header.length) {
      throw new ShapeError(
        `row ${index} has ${Array.isArray(row) ? row.length : "no"} cells, header has ${header.length}`,
      );
    }
    const keyed: ReportRow = {};
    header.forEach((name, column) => {
      keyed[name] = row[column] as LuxSciCell;
    });
    return keyed;
  });
}

/** Parses a report reply's `data` into a page (exported for fixture tests). */
export function parseReportPage(
  kind: ReportKind,
  firstRow: number,
  envelope: Envelope,
): ReportPage {
  const data = envelope.data as Record<string, unknown> | null | undefined;
  if (!data || typeof data !== "object") throw new ShapeError("report reply without data");
  const { header, rows } = data;
  if (!Array.isArray(header) || !header.every((name) => typeof name === "string")) {
    throw new ShapeError("report reply without a header array");
  }
  if (!Array.isArray(rows)) throw new ShapeError("report reply without a rows array");
  return {
    kind,
    matchesTotal: Number(data.matches_total ?? 0),
    matchesReturned: Number(data.matches_returned ?? rows.length),
    first: Number(data.first ?? firstRow),
    firstRow,
    header: header as string[],
    rows: keyRows(header as string[], rows),
  };
}

/** One page of a report. */
export async function getReportPage(
  http: LuxSciHttp,
  kind: ReportKind,
  query: ReportQuery = {},
): Promise<ReportPage> {
  const path = http.userPath(REPORT_PATHS[kind]);
  validatePaging(query, { method: "GET", path: http.fullPath(path) });
  const firstRow = query.firstRow ?? 0;
  return http.call({
    method: "GET",
    path,
    query: buildReportQuery(query),
    parse: (envelope) => parseReportPage(kind, firstRow, envelope),
  });
}

/**
 * Every page of a report from `query.firstRow`, `query.matches` rows at a time. Stops when a
 * page comes back short or the offset reaches matches_total. The next offset is our own
 * first_row plus the rows received, not LuxSci's `first` (seed 000's sent example echoes
 * first: 3 for first_row=0).
 */
export async function* iterateReport(
  http: LuxSciHttp,
  kind: ReportKind,
  query: ReportQuery = {},
): AsyncGenerator<ReportPage, void, undefined> {
  const matches = query.matches ?? MAX_REPORT_MATCHES;
  let firstRow = query.firstRow ?? 0;
  for (;;) {
    const page = await getReportPage(http, kind, { ...query, firstRow, matches });
    yield page;
    const returned = page.rows.length;
    firstRow += returned;
    if (returned === 0 || returned < matches || firstRow >= page.matchesTotal) return;
  }
}

/** The rows of iterateReport, one at a time. */
export async function* iterateReportRows(
  http: LuxSciHttp,
  kind: ReportKind,
  query: ReportQuery = {},
): AsyncGenerator<ReportRow, void, undefined> {
  for await (const page of iterateReport(http, kind, query)) yield* page.rows;
}
