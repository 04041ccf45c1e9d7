import { type LuxSciHttp, ShapeError } from "../http.ts";
import type { LuxSciMessage } from "../types.ts";
import { validateSendMessages } from "../validation.ts";

export interface SendOptions {
  /** LuxSci's sandbox flag: accepted but not delivered. */
  sandbox?: boolean;
  /**
   * Attempts for this call instead of the client's. A send is not idempotent: a timeout or a
   * 502/504 after LuxSci accepted it, retried here, sends twice. Callers that check the sent
   * report before resending (docs/architecture.md "Exactly once") can pass 1 and retry at the job
   * level.
   */
  maxAttempts?: number;
}

/**
 * `POST /user/<u>/email/send` (seed 000 outbound step 6). Checks LuxSci's limits before any
 * request; returns one sendmail id per message, in order.
 */
export async function sendEmail(
  http: LuxSciHttp,
  messages: readonly LuxSciMessage[],
  options: SendOptions = {},
): Promise<string[]> {
  const path = http.userPath("/email/send");
  validateSendMessages(messages, { method: "POST", path: http.fullPath(path) });
  return await http.call({
    method: "POST",
    path,
    body: { message: null, messages, sandbox: options.sandbox ? 1 : 0 },
    maxAttempts: options.maxAttempts,
    parse: (envelope) => {
      const ids = envelope.data;
      if (!Array.isArray(ids) || ids.length !== messages.length) {
        throw new ShapeError(
          `expected ${messages.length} sendmail ids, got ${Array.isArray(ids) ? ids.length : "none"}`,
        );
      }
      return ids.map(String);
    },
  });
}
