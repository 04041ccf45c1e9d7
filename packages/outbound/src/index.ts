// Outbound fulfillment services (seed 000 outbound steps 1-9): the package's only public door.

export { EMAIL_FIELDS, normalizeEmail } from "./audience/email.ts";
export { type AudienceFileProblem, inspectAudienceFile } from "./audience/inspect.ts";
export { audiencesDir, sweepAudienceFiles } from "./audience/retention.ts";
export {
  type AudienceLimits,
  type AudienceRow,
  readAudience,
  type TAudience,
  ZAudience,
} from "./audience/source.ts";
export { checkAudienceTable, LUXRELAY_TABLES } from "./audience/table.ts";
export { testChannelConnectivity } from "./channels/connectivity.ts";
export type { OutboundDeps } from "./context.ts";
export {
  ExecutionStateError,
  LockLostError,
  NotFoundError,
  OutboundInputError,
  RetryLaterError,
} from "./errors.ts";
export { cancelExecution, pauseExecution, resumeExecution } from "./executions/control.ts";
export { type CreateExecutionInput, createExecution } from "./executions/create.ts";
export {
  exportMergeFile,
  type MergeExport,
  openMergeExport,
} from "./executions/export-merge.ts";
export { type ReconcileReport, reconcileExecutionJobs } from "./executions/reconcile-jobs.ts";
export { replayExecution } from "./executions/replay.ts";
export { type ExecutionStatusView, getExecutionStatus } from "./executions/status.ts";
export { type FinalizeResult, finalizeExecution } from "./finalize.ts";
export { chidOf, templateTitleOf, trackingIdOf } from "./ids.ts";
export { finalizeJobId, sendJobId } from "./plan/enqueue.ts";
export { type PlanResult, planExecution } from "./plan/plan-execution.ts";
export {
  type TVariantRule,
  trialRenderVariant,
  VARIANT_KEY,
  ZVariantRule,
} from "./plan/variants.ts";
export { MicroBatcher } from "./realtime/batcher.ts";
export {
  type RealtimeResult,
  RealtimeSender,
  type RealtimeSenderOptions,
} from "./realtime/realtime-sender.ts";
export { expireRealtimeTemplates, rollbackOffer } from "./realtime/templates.ts";
export { createOutboundRuntime, type OutboundRuntime } from "./runtime.ts";
export { trackedHeaderValue } from "./send/reconcile.ts";
export { type SendBatchResult, type SendJobControl, sendBatch } from "./send/send-batch.ts";
export { withTransaction } from "./tx.ts";
