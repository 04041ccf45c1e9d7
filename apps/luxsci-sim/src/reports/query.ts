import { parseGmt } from "../clock.ts";
import { RequestError } from "../validate.ts";

// Report query parameters (seed 000 inbound step 1; contract "Reports"): paging by first_row
// and matches (1..50000), a date window on the report's own date, and header filters.

export const MAX_MATCHES = 50_000;
export const DEFAULT_MATCHES = 1_000;

export interface HeaderFilter {
  /** 0-based position among the account's tracked headers. */
  position: number;
  test(value: string | null): boolean;
}

export interface ReportQuery {
  firstRow: number;
  /** undefined: every row (exports without `matches`). */
  matches: number | undefined;
  afterMs: number | undefined;
  beforeMs: number | undefined;
  filters: HeaderFilter[];
}

/** SQL LIKE as LuxSci's MariaDB runs it: `%` around the value, `_` any one character. */
export function likeMatcher(value: string): (text: string | null) => boolean {
  let pattern = "";
  for (const ch of value) {
    pattern += ch === "_" ? "." : ch === "%" ? ".*" : ch.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  }
  // MariaDB's default collation compares case-insensitively.
  const regex = new RegExp(pattern, "is");
  return (text) => text !== null && regex.test(text);
}

function integer(raw: string | undefined, name: string, fallback: number | undefined) {
  if (raw === undefined || raw === "") return fallback;
  if (!/^\d+$/.test(raw)) throw new RequestError(`${name} must be a non-negative integer`);
  return Number(raw);
}

function date(raw: string | undefined, name: string): number | undefined {
  if (raw === undefined || raw === "") return undefined;
  const ms = parseGmt(raw);
  if (ms === undefined) throw new RequestError(`${name} must be GMT "YYYY-MM-DD HH:MM:SS"`);
  return ms;
}

export function parseReportQuery(
  query: Record<string, string | undefined>,
  trackedHeaders: readonly string[],
  exporting: boolean,
): ReportQuery {
  const firstRow = integer(query.first_row, "first_row", 0) as number;
  const matches = integer(query.matches, "matches", exporting ? undefined : DEFAULT_MATCHES);
  if (matches !== undefined && (matches < 1 || matches > MAX_MATCHES)) {
    throw new RequestError(`matches must be between 1 and ${MAX_MATCHES}`);
  }
  const filters: HeaderFilter[] = [];
  for (const n of [1, 2, 3]) {
    const name = query[`header${n}`];
    const value = query[`header${n}_value`];
    if (!name || value === undefined) continue;
    const position = trackedHeaders.findIndex((h) => h.toLowerCase() === name.toLowerCase());
    if (position < 0) {
      throw new RequestError(
        `header${n} "${name}" is not a tracked header (tracked: ${trackedHeaders.join(", ")})`,
      );
    }
    const operator = query[`header${n}_operator`] ?? "eq";
    if (operator === "like") {
      filters.push({ position, test: likeMatcher(value) });
    } else if (operator === "eq") {
      filters.push({ position, test: (text) => text === value });
    } else {
      throw new RequestError(`header${n}_operator must be "like" or "eq"`);
    }
  }
  return {
    firstRow,
    matches,
    afterMs: date(query.after_date, "after_date"),
    beforeMs: date(query.before_date, "before_date"),
    filters,
  };
}
