// Inbound state sync (seed 000 inbound steps 1-11): the package's only public door.

export {
  type ApplyResult,
  applyNewEvents,
  EVENTS_STREAM,
  eventsStreamKey,
  publishNewEvents,
} from "./apply/index.ts";
export type { SyncDeps, SyncSettings } from "./context.ts";
export {
  IMPORTED_COLUMNS,
  type ImportResult,
  type InboundDeps,
  importReportRows,
  OccurrenceCounter,
  ReportIncompleteError,
  type RowProblem,
  readReportCsv,
  type SourcedRow,
} from "./import/index.ts";
export {
  type ContactEngagement,
  type EventMetrics,
  getContactEngagement,
  getExecutionMetrics,
  getOfferMetrics,
} from "./metrics/index.ts";
export { createSyncRuntime, type SyncRuntime } from "./runtime.ts";
export {
  type ApiSyncResult,
  PAGES_PER_IMPORT,
  type SyncProgress,
  syncChannelByApi,
} from "./sync/api-sync.ts";
export { chidFilter, REPORT_KINDS } from "./sync/channel.ts";
export {
  EXPORT_GIVE_UP_MS,
  type ExportSetStart,
  queueExportStep,
  startExportSet,
} from "./sync/export-set.ts";
export {
  createExportJobs,
  type ExportStep,
  reportsDir,
  stepExportJob,
} from "./sync/export-sync.ts";
export {
  runChannelSync,
  type SyncRunResult,
  scheduleChannelSyncs,
} from "./sync/run-sync.ts";
export { importLuxSciSuppressions } from "./sync/suppression-list.ts";
export { sweepReportFiles } from "./sync/sweep.ts";
export {
  advanceWatermark,
  planReportRead,
  type ReportRead,
  type WatermarkMove,
  watermarkLimit,
} from "./sync/watermark.ts";
