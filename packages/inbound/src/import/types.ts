import type { Logger } from "@luxrelay/logger";
import type { ReportRow } from "@luxrelay/luxsci";
import type { Redis } from "ioredis";
import type pg from "pg";

export interface InboundDeps {
  pool: pg.Pool;
  redis: Redis;
  /** Queue prefix of this deployment; the events stream is `${queuePrefix}:events`. */
  queuePrefix: string;
  logger: Logger;
}

/**
 * Why a row could not be read at its source (an export file's malformed line, an API row
 * of the wrong shape). importReportRows rejects a row that carries one, with its line.
 */
export interface RowDefect {
  /** The column at fault, or "(row)" for the row as a whole. */
  field: string;
  message: string;
}

export interface SourcedRow {
  /** 1-based line in the file (the header is line 1) or row number in the API page. */
  line: number;
  /** The row keyed by its source's own header, never by position. */
  row: ReportRow;
  /** Set when the source could not read the row; the row is then rejected, not imported. */
  defect?: RowDefect;
}

export interface RowProblem {
  /** What was being imported, e.g. "file 1689671756-1485-20872.csv". */
  source: string;
  line: number;
  field: string;
  message: string;
}

export interface ImportResult {
  /** Report rows read (valid or not). */
  offered: number;
  /** Events newly stored in email_event (a re-import inserts 0). */
  inserted: number;
  /** Valid rows that are not this channel's: no chid, another channel, unknown execution. */
  notOurs: number;
  /** Rows refused for a problem (problems lists the first 1000). */
  rejected: number;
  problems: RowProblem[];
  /** Latest report date among the valid rows (a watermark candidate), null with none. */
  maxOccurredAt: Date | null;
}
