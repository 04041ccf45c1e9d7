import { describeFailure, LuxSciError, type LuxSciErrorContext } from "./luxsci-error.ts";

/**
 * HTTP 429 from LuxSci, surfaced apart from other retryable failures so a BullMQ worker can
 * rate-limit its whole queue (`worker.rateLimit(retryAfterMs)`) instead of one job backing off.
 */
export class LuxSciRateLimitError extends LuxSciError {
  override readonly name = "LuxSciRateLimitError";
  readonly retryable = true;
  /** LuxSci's Retry-After in milliseconds (capped), when it sent one. */
  readonly retryAfterMs: number | undefined;

  constructor(context: LuxSciErrorContext & { retryAfterMs?: number | undefined }) {
    super(describeFailure("rate limited", context), context);
    this.retryAfterMs = context.retryAfterMs;
  }
}
