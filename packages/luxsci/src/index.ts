// The typed LuxSci API v2 client: the package's only public door
// (docs/architecture.md "Code style" 1). Wire contract: docs/luxsci-contract.md (seed 000).

export { LuxSciClient, type LuxSciClientOptions } from "./client.ts";
export { epochSeconds, formatLuxSciDate, parseLuxSciDate } from "./dates.ts";
export { isPlainFileName, parseJobs } from "./endpoints/export.ts";
export { keyRows, parseReportPage, REPORT_PATHS } from "./endpoints/reports.ts";
export type { SendOptions } from "./endpoints/send.ts";
export { parseSuppressions } from "./endpoints/suppression.ts";
export { LuxSciAuthError } from "./errors/auth-error.ts";
export {
  classifyReply,
  classifyTransportError,
  type Failure,
  isRefusal,
  isRetryableErrorCode,
  RETRYABLE_ERROR_CODES,
  RETRYABLE_STATUSES,
} from "./errors/classify.ts";
export { LuxSciError } from "./errors/luxsci-error.ts";
export { LuxSciMaxJobsError } from "./errors/max-jobs-error.ts";
export { LuxSciRateLimitError } from "./errors/rate-limit-error.ts";
export { LuxSciRequestError } from "./errors/request-error.ts";
export { LuxSciRetryableError } from "./errors/retryable-error.ts";
export { LuxSciValidationError } from "./errors/validation-error.ts";
export {
  computeBackoffMs,
  DEFAULT_MAX_ATTEMPTS,
  DEFAULT_RETRY_BASE_MS,
  parseRetryAfterMs,
} from "./retry.ts";
export { SERVER_CLOCK_UNCERTAINTY_MS, ServerClock } from "./server-clock.ts";
export { buildSignatureCookie, sha256Hex, signAuth, signRequest } from "./signing.ts";
export { DEFAULT_TIMEOUT_MS } from "./transport.ts";
export type * from "./types.ts";
export {
  MAX_FROM_NAME_CHARS,
  MAX_HEADERS_PER_MESSAGE,
  MAX_MESSAGES_PER_SEND,
  MAX_RECIPIENTS_PER_MESSAGE,
  MAX_REPORT_MATCHES,
  MAX_SUBJECT_CHARS,
  validatePaging,
  validateSendMessages,
} from "./validation.ts";
