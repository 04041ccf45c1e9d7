export { type ParsedChid, parseChid } from "./chid.ts";
export { type ReadReportCsvOptions, ReportFileError, readReportCsv } from "./csv.ts";
export { createWallClock, parseWallTime, type WallClock } from "./dates.ts";
export {
  type ImportReportRowsInput,
  importReportRows,
  MAX_REPORTED_PROBLEMS,
  ReportIncompleteError,
} from "./import-rows.ts";
export { IMPORTED_COLUMNS } from "./map-row.ts";
export { OccurrenceCounter } from "./occurrences.ts";
export type {
  ImportResult,
  InboundDeps,
  RowDefect,
  RowProblem,
  SourcedRow,
} from "./types.ts";
