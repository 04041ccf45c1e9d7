import { describeFailure, LuxSciError, type LuxSciErrorContext } from "./luxsci-error.ts";

/**
 * LuxSci refused the credentials or the request signature (401/403) even after one fresh
 * authentication: wrong user, token or secret, or a revoked API interface. Unrecoverable,
 * except when `afterFreshAuth`: LuxSci accepted a new authentication and then refused the
 * request again, which is how it answers some limits; then trying later can help.
 */
export class LuxSciAuthError extends LuxSciError {
  override readonly name = "LuxSciAuthError";
  readonly retryable: boolean;
  readonly afterFreshAuth: boolean;

  constructor(context: LuxSciErrorContext, options: { afterFreshAuth?: boolean } = {}) {
    super(
      describeFailure(
        options.afterFreshAuth
          ? "refused after a fresh authentication (a limit?)"
          : "authentication refused",
        context,
      ),
      context,
    );
    this.afterFreshAuth = options.afterFreshAuth ?? false;
    this.retryable = this.afterFreshAuth;
  }
}
