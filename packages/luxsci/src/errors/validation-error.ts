import { LuxSciError } from "./luxsci-error.ts";

/**
 * A request the client refused before sending it, because LuxSci would refuse it too (send
 * limits, report paging bounds). Unrecoverable: the same input fails the same way again.
 * Values are never echoed (they may be personal data); the message names index and field.
 */
export class LuxSciValidationError extends LuxSciError {
  override readonly name = "LuxSciValidationError";
  readonly retryable = false;
  /** Index of the offending message in a send call; undefined for non-message input. */
  readonly messageIndex: number | undefined;
  /** Field path inside the message or query, e.g. "headers[2].value" or "matches". */
  readonly field: string;

  constructor(
    request: { method: string; path: string },
    field: string,
    problem: string,
    messageIndex?: number,
  ) {
    const where = messageIndex === undefined ? field : `messages[${messageIndex}].${field}`;
    super(`LuxSci ${request.method} ${request.path} not sent: ${where} ${problem}`, {
      ...request,
      attempts: 0,
      refused: true,
    });
    this.field = field;
    this.messageIndex = messageIndex;
  }
}
