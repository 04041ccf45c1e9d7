import { describeFailure, LuxSciError, type LuxSciErrorContext } from "./luxsci-error.ts";

/**
 * LuxSci refused the credentials or the request signature (401/403) even after one fresh
 * authentication: wrong user, token or secret, or a revoked API interface. Unrecoverable.
 */
export class LuxSciAuthError extends LuxSciError {
  override readonly name = "LuxSciAuthError";
  readonly retryable = false;

  constructor(context: LuxSciErrorContext) {
    super(describeFailure("authentication refused", context), context);
  }
}
