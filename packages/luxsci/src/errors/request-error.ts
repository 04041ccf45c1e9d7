import { describeFailure, LuxSciError, type LuxSciErrorContext } from "./luxsci-error.ts";

/**
 * Everything not on the retryable list: 400, other 4xx, 500, `success: 0` with HTTP 200, a
 * reply whose shape breaks the contract. Unrecoverable; LuxSci's message is kept.
 */
export class LuxSciRequestError extends LuxSciError {
  override readonly name = "LuxSciRequestError";
  readonly retryable = false;

  constructor(context: LuxSciErrorContext, summary = "request refused") {
    super(describeFailure(summary, context), context);
  }
}
