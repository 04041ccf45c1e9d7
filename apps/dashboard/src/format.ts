import { redactString } from "@luxrelay/logger";

// What the dashboard shows of a job (docs/architecture.md "Code style" 3, 12): jobs carry ids, and
// an operator needs the ids to find the rows. Anything else a payload might carry by mistake (a
// recipient list, merge data, a channel password, an SFTP URL with its password) is hidden or
// reduced to a count, so opening the board never leaks what the logs are careful not to write.

export const REDACTED = "[redacted]";

/** Values under these keys are secrets wherever they appear. */
const SECRET_KEY = /pass|secret|token|auth|key|cookie|signature|credential/i;
/** Ids are what the board is for; kept when they are numbers or short strings. */
const ID_KEY = /(^ids?$|Ids?$|_ids?$)/;
/** Recipient lists and merge data: shown as a count, never item by item. */
const LIST_KEY =
  /recipient|email|contact|message|templateData|audience|address|^(to|cc|bcc|data|payload|rows)$/i;
// A plain e-mail address in free text (an error message, a log line). The local part can't
// contain '*', so a URL already masked by redactString (user:***@host) is left as it is.
const EMAIL_ADDRESS = /[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+/g;

const MAX_ID_LENGTH = 100;
const MAX_STRING_LENGTH = 200;
const MAX_LIST_LENGTH = 20;
const MAX_DEPTH = 4;

/** Scrubs free text: passwords in URLs, secret query parameters, e-mail addresses. */
export function maskText(text: string): string {
  return redactString(text).replace(EMAIL_ADDRESS, "[email]");
}

function countOf(value: object): string {
  const size = Array.isArray(value) ? value.length : Object.keys(value).length;
  return `[${size} items]`;
}

function isPrimitive(value: unknown): value is string | number | boolean | null {
  return value === null || ["string", "number", "boolean"].includes(typeof value);
}

function formatString(text: string): string {
  return text.length > MAX_STRING_LENGTH ? `[${text.length} chars]` : maskText(text);
}

function formatValue(value: unknown, depth: number): unknown {
  if (typeof value === "string") return formatString(value);
  if (value === null || typeof value !== "object") return value;
  if (depth >= MAX_DEPTH) return countOf(value);
  if (Array.isArray(value)) {
    // Short lists of plain values (statuses, flags) are harmless; anything longer or nested
    // is more likely a list of people than something an operator needs to read.
    return value.length <= MAX_LIST_LENGTH && value.every(isPrimitive)
      ? value.map((item) => formatValue(item, depth + 1))
      : countOf(value);
  }
  const out: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value)) out[key] = formatField(key, inner, depth + 1);
  return out;
}

function formatField(key: string, value: unknown, depth: number): unknown {
  if (value === null || value === undefined) return value;
  if (SECRET_KEY.test(key)) return REDACTED;
  if (ID_KEY.test(key)) {
    if (typeof value === "number") return value;
    if (typeof value === "string" && value.length <= MAX_ID_LENGTH) return maskText(value);
    if (Array.isArray(value) && value.length <= MAX_LIST_LENGTH && value.every(isPrimitive)) {
      return value.map((item) => formatValue(item, depth + 1));
    }
  }
  if (LIST_KEY.test(key)) {
    if (typeof value === "object") return countOf(value);
    // A count (messageCount: 12) is fine; a lone address or message body is not.
    return typeof value === "string" ? REDACTED : value;
  }
  return formatValue(value, depth);
}

/** Job data, return values and progress as the board shows them. */
export function formatJobData(data: unknown): unknown {
  return formatValue(data, 0);
}

/** A job's name (its kind); names are ours, but mask them in case an id holds an address. */
export function formatJobName(job: { name?: unknown }): string {
  return typeof job.name === "string" ? maskText(job.name) : "";
}
