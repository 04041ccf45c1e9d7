export { type ParsedChid, parseChid } from "./chid.ts";
export { ReportFileError, readReportCsv } from "./csv.ts";
export { createWallClock, parseWallTime, type WallClock } from "./dates.ts";
export {
  type ImportReportRowsInput,
  importReportRows,
  MAX_REPORTED_PROBLEMS,
} from "./import-rows.ts";
export { OFFER_HISTORY_PRECEDENCE } from "./offer-history.ts";
export { EVENTS_STREAM, EVENTS_STREAM_MAXLEN, eventsStreamKey } from "./publish.ts";
export { SUPPRESSION_SOURCES } from "./suppression.ts";
export type {
  ImportResult,
  InboundDeps,
  RowDefect,
  RowProblem,
  SourcedRow,
} from "./types.ts";
