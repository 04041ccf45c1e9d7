import type { HeaderPair } from "./ledger.ts";

// Seed 000 outbound step 5/6 and the contract's "Send limits": what LuxSci refuses with 400.
// Each refusal names the message (0-based) and the limit, so a client log says what to fix.

export const MAX_MESSAGES = 1000;
export const MAX_RECIPIENTS = 100;
export const MAX_HEADERS = 10;
export const MAX_SUBJECT = 1000;
export const MAX_FROM_NAME = 100;

export class RequestError extends Error {
  constructor(
    message: string,
    readonly status = 400,
    readonly data?: unknown,
  ) {
    super(message);
  }
}

export interface SendMessage {
  fromAddress: string;
  fromName: string | null;
  subject: string | null;
  body: string | null;
  bodyText: string | null;
  to: string[];
  cc: string[];
  bcc: string[];
  headers: HeaderPair[];
  template: string | null;
  templateData: Record<string, unknown>;
  templateDataRaw: boolean;
}

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json =>
  typeof value === "object" && value !== null && !Array.isArray(value);

function addressList(value: unknown, field: string, where: string): string[] {
  if (value === null || value === undefined) return [];
  if (typeof value === "string") return value === "" ? [] : [value];
  if (Array.isArray(value) && value.every((item) => typeof item === "string")) return value;
  throw new RequestError(`${where}: ${field} must be a string or an array of strings`);
}

function optionalString(value: unknown, field: string, where: string): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value !== "string") throw new RequestError(`${where}: ${field} must be a string`);
  return value;
}

function headerList(value: unknown, where: string): HeaderPair[] {
  if (value === null || value === undefined) return [];
  // Seed 000 sends headers as [name, value] pairs; an object map is accepted too.
  const pairs = Array.isArray(value) ? value : isObject(value) ? Object.entries(value) : undefined;
  if (!pairs) throw new RequestError(`${where}: headers must be an array of [name, value]`);
  if (pairs.length > MAX_HEADERS) {
    throw new RequestError(`${where}: ${pairs.length} headers, at most ${MAX_HEADERS} allowed`);
  }
  return pairs.map((pair, h) => {
    if (!Array.isArray(pair) || pair.length !== 2) {
      throw new RequestError(`${where}: header ${h} must be [name, value]`);
    }
    const [name, headerValue] = pair as unknown[];
    if (typeof name !== "string" || name === "") {
      throw new RequestError(`${where}: header ${h} name must be a non-empty string`);
    }
    const text = typeof headerValue === "string" ? headerValue : String(headerValue ?? "");
    if (/[\r\n]/.test(name) || /[\r\n]/.test(text)) {
      throw new RequestError(`${where}: header "${name}" contains CR or LF (header injection)`);
    }
    return [name, text] as const;
  });
}

/** Parses and checks one message of `messages`; throws RequestError naming the limit. */
export function parseMessage(raw: unknown, index: number): SendMessage {
  const where = `message ${index}`;
  if (!isObject(raw)) throw new RequestError(`${where}: must be an object`);
  const fromAddress = optionalString(raw.from_address, "from_address", where);
  if (!fromAddress) throw new RequestError(`${where}: from_address is required`);
  const fromName = optionalString(raw.from_name, "from_name", where);
  if (fromName !== null && fromName.length > MAX_FROM_NAME) {
    throw new RequestError(
      `${where}: from_name is ${fromName.length} characters, at most ${MAX_FROM_NAME} allowed`,
    );
  }
  const subject = optionalString(raw.subject, "subject", where);
  if (subject !== null && subject.length > MAX_SUBJECT) {
    throw new RequestError(
      `${where}: subject is ${subject.length} characters, at most ${MAX_SUBJECT} allowed`,
    );
  }
  if (subject !== null && /[\r\n]/.test(subject)) {
    throw new RequestError(`${where}: subject contains CR or LF`);
  }
  const to = addressList(raw.to, "to", where);
  const cc = addressList(raw.cc, "cc", where);
  const bcc = addressList(raw.bcc, "bcc", where);
  const recipients = to.length + cc.length + bcc.length;
  if (to.length === 0) throw new RequestError(`${where}: at least one "to" recipient is required`);
  if (recipients > MAX_RECIPIENTS) {
    throw new RequestError(
      `${where}: ${recipients} recipients (to + cc + bcc), at most ${MAX_RECIPIENTS} allowed`,
    );
  }
  const templateValue = raw.template;
  const template =
    templateValue === null || templateValue === undefined || templateValue === ""
      ? null
      : String(templateValue);
  const templateData = raw.template_data ?? {};
  if (!isObject(templateData)) throw new RequestError(`${where}: template_data must be an object`);
  return {
    fromAddress,
    fromName,
    subject,
    body: optionalString(raw.body, "body", where),
    bodyText: optionalString(raw.body_text, "body_text", where),
    to,
    cc,
    bcc,
    headers: headerList(raw.headers, where),
    template,
    templateData,
    templateDataRaw: raw.template_data_raw === 1 || raw.template_data_raw === true,
  };
}

/** The `messages` array of POST /email/send, all checked before anything is accepted. */
export interface SendBody {
  messages: SendMessage[];
  /** LuxSci's sandbox flag: accepted and given ids, never delivered (no events, no reports). */
  sandbox: boolean;
}

export function parseSendBody(body: unknown): SendBody {
  if (!isObject(body)) throw new RequestError("body must be a JSON object");
  const list = Array.isArray(body.messages)
    ? body.messages
    : isObject(body.message)
      ? [body.message]
      : undefined;
  if (!list || list.length === 0) throw new RequestError("messages must be a non-empty array");
  if (list.length > MAX_MESSAGES) {
    throw new RequestError(`${list.length} messages in one call, at most ${MAX_MESSAGES} allowed`);
  }
  const sandbox = body.sandbox ?? 0;
  if (sandbox !== 0 && sandbox !== 1 && typeof sandbox !== "boolean") {
    throw new RequestError("sandbox must be 0 or 1");
  }
  return {
    messages: list.map((raw, index) => parseMessage(raw, index)),
    sandbox: sandbox === 1 || sandbox === true,
  };
}
