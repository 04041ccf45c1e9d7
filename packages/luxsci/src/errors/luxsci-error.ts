/** Where a failure happened: enough to find the call in logs, never a secret. */
export interface LuxSciErrorContext {
  method: string;
  /** Request path without the query string (queries may carry destination_password). */
  path: string;
  /** HTTP status when LuxSci answered; undefined for transport failures and local checks. */
  status?: number | undefined;
  /** HTTP attempts made for this call (0 for local validation). */
  attempts: number;
  /** LuxSci's own `error` text, kept for the batch row (already scrubbed of secrets). */
  luxsciMessage?: string | undefined;
  /** Transport error code (ECONNRESET, UND_ERR_HEADERS_TIMEOUT, ...) when there was one. */
  code?: string | undefined;
  /**
   * True only when LuxSci certainly did not carry the call out: it answered a refusal, or the
   * request never reached it. Undefined/false: the outcome is unknown (see `refused`).
   */
  refused?: boolean | undefined;
  cause?: unknown;
}

/**
 * Base of every error the client throws (docs/architecture.md "Code style" 5: errors are classified
 * once, here). Handlers switch on the subclass; `retryable` says whether trying the same call later
 * can help.
 */
export abstract class LuxSciError extends Error {
  abstract readonly retryable: boolean;
  readonly method: string;
  readonly path: string;
  readonly status: number | undefined;
  readonly attempts: number;
  readonly luxsciMessage: string | undefined;
  readonly code: string | undefined;
  /**
   * Whether LuxSci certainly did not act on the call: a refusal it answered (4xx, 429, 503,
   * `success: 0`) or a connection that never opened. False means the outcome is unknown (a
   * timeout, a reset, 500/502/504, a lost or garbled reply): for a send, the messages may have
   * been accepted, and only LuxSci's sent report can tell (docs/architecture.md "Exactly once").
   */
  readonly refused: boolean;

  constructor(message: string, context: LuxSciErrorContext) {
    super(message, context.cause === undefined ? undefined : { cause: context.cause });
    this.method = context.method;
    this.path = context.path;
    this.status = context.status;
    this.attempts = context.attempts;
    this.luxsciMessage = context.luxsciMessage;
    this.code = context.code;
    this.refused = context.refused ?? false;
  }
}

/** "GET /perl/api/v2/user/a/profile: HTTP 503 \"busy\" (10 attempts)" */
export function describeFailure(summary: string, context: LuxSciErrorContext): string {
  const what =
    context.status === undefined ? (context.code ?? "transport error") : `HTTP ${context.status}`;
  const said = context.luxsciMessage ? ` ${JSON.stringify(context.luxsciMessage)}` : "";
  const tries = context.attempts === 1 ? "1 attempt" : `${context.attempts} attempts`;
  return `LuxSci ${context.method} ${context.path}: ${summary}: ${what}${said} (${tries})`;
}
