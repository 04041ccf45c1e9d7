import { LuxSciValidationError } from "./errors/validation-error.ts";
import type { LuxSciMessage } from "./types.ts";

// LuxSci's send limits (contract "Send limits"), checked before any request so a batch that
// LuxSci would refuse fails fast and unrecoverably, naming the message and field.
export const MAX_MESSAGES_PER_SEND = 1000;
export const MAX_RECIPIENTS_PER_MESSAGE = 100;
export const MAX_HEADERS_PER_MESSAGE = 10;
export const MAX_SUBJECT_CHARS = 1000;
export const MAX_FROM_NAME_CHARS = 100;
export const MAX_REPORT_MATCHES = 50_000;

const CR_OR_LF = /[\r\n]/;

interface Where {
  method: string;
  path: string;
}

/** Length in characters (code points), as LuxSci counts them, not UTF-16 units. */
function charLength(text: string): number {
  let count = 0;
  for (const _ of text) count += 1;
  return count;
}

export function validateSendMessages(messages: readonly LuxSciMessage[], where: Where): void {
  if (!Array.isArray(messages) || messages.length === 0) {
    throw new LuxSciValidationError(where, "messages", "must hold at least one message");
  }
  if (messages.length > MAX_MESSAGES_PER_SEND) {
    throw new LuxSciValidationError(
      where,
      "messages",
      `has ${messages.length} messages; LuxSci takes at most ${MAX_MESSAGES_PER_SEND} per call`,
    );
  }
  for (const [index, message] of messages.entries()) validateMessage(message, index, where);
}

function validateMessage(message: LuxSciMessage, index: number, where: Where): void {
  const fail = (field: string, problem: string) => {
    throw new LuxSciValidationError(where, field, problem, index);
  };
  const recipients =
    (message.to?.length ?? 0) + (message.cc?.length ?? 0) + (message.bcc?.length ?? 0);
  if (recipients > MAX_RECIPIENTS_PER_MESSAGE) {
    fail("to", `has ${recipients} recipients (to+cc+bcc); at most ${MAX_RECIPIENTS_PER_MESSAGE}`);
  }
  if (typeof message.subject === "string" && charLength(message.subject) > MAX_SUBJECT_CHARS) {
    fail("subject", `is longer than ${MAX_SUBJECT_CHARS} characters`);
  }
  if (
    typeof message.from_name === "string" &&
    charLength(message.from_name) > MAX_FROM_NAME_CHARS
  ) {
    fail("from_name", `is longer than ${MAX_FROM_NAME_CHARS} characters`);
  }
  const headers = message.headers ?? [];
  if (headers.length > MAX_HEADERS_PER_MESSAGE) {
    fail("headers", `has ${headers.length} headers; at most ${MAX_HEADERS_PER_MESSAGE}`);
  }
  for (const [h, header] of headers.entries()) {
    const [name, value] = header;
    if (typeof name !== "string" || name === "")
      fail(`headers[${h}].name`, "must be a non-empty string");
    if (typeof value !== "string") fail(`headers[${h}].value`, "must be a string");
    // A CR or LF would let a value inject further headers into the outgoing mail.
    if (CR_OR_LF.test(name)) fail(`headers[${h}].name`, "contains CR or LF");
    if (CR_OR_LF.test(value)) fail(`headers[${h}].value`, "contains CR or LF");
  }
}

export function validatePaging(
  paging: { firstRow?: number | undefined; matches?: number | undefined },
  where: Where,
): void {
  const { firstRow, matches } = paging;
  if (firstRow !== undefined && !(Number.isInteger(firstRow) && firstRow >= 0)) {
    throw new LuxSciValidationError(where, "firstRow", "must be an integer ≥ 0");
  }
  if (
    matches !== undefined &&
    !(Number.isInteger(matches) && matches >= 1 && matches <= MAX_REPORT_MATCHES)
  ) {
    throw new LuxSciValidationError(
      where,
      "matches",
      `must be an integer 1..${MAX_REPORT_MATCHES}`,
    );
  }
}
