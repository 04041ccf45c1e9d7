import { describeFailure, LuxSciError, type LuxSciErrorContext } from "./luxsci-error.ts";

/**
 * A failure on seed 000's retryable list (timeouts, connect/DNS/TLS/reset failures, HTTP 404,
 * 408, 417, 502, 503, 504, malformed JSON in a 2xx reply) that outlived the client's own
 * retries. The job may try again later.
 */
export class LuxSciRetryableError extends LuxSciError {
  override readonly name = "LuxSciRetryableError";
  readonly retryable = true;

  constructor(context: LuxSciErrorContext, summary = "retryable failure") {
    super(describeFailure(summary, context), context);
  }
}
