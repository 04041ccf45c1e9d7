import { parseRetryAfterMs } from "../retry.ts";
import { LuxSciAuthError } from "./auth-error.ts";
import type { LuxSciError, LuxSciErrorContext } from "./luxsci-error.ts";
import { LuxSciMaxJobsError } from "./max-jobs-error.ts";
import { LuxSciRateLimitError } from "./rate-limit-error.ts";
import { LuxSciRequestError } from "./request-error.ts";
import { LuxSciRetryableError } from "./retryable-error.ts";

// The one place where a transport failure or an HTTP reply becomes a named outcome
// (docs/architecture.md "Code style" 5). Seed 000 "Which error codes are retry-able?" lists .NET
// WebException statuses; their Node/undici equivalents are below.

/** HTTP statuses on seed 000's list: NotFound, RequestTimeout, ExpectationFailed,
 * TooManyRequest, BadGateway, ServiceUnavailable, GatewayTimeout. (500 is not on it.) */
export const RETRYABLE_STATUSES: ReadonlySet<number> = new Set([404, 408, 417, 429, 502, 503, 504]);

/** Timeout, ConnectFailure, NameResolutionFailure, SendFailure, ReceiveFailure, KeepAliveFailure,
 * SecureChannelFailure, ProtocolError, ServerProtocolViolation as Node/undici error codes. */
export const RETRYABLE_ERROR_CODES: ReadonlySet<string> = new Set([
  "UND_ERR_CONNECT_TIMEOUT",
  "UND_ERR_HEADERS_TIMEOUT",
  "UND_ERR_BODY_TIMEOUT",
  "UND_ERR_SOCKET",
  "UND_ERR_CLOSED",
  "UND_ERR_RES_CONTENT_LENGTH_MISMATCH",
  "ECONNRESET",
  "ECONNREFUSED",
  "ECONNABORTED",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "EHOSTDOWN",
  "ENETUNREACH",
  "ENETDOWN",
  "ENETRESET",
  "EPROTO",
]);

// TLS handshake and certificate failures (SecureChannelFailure) and llhttp parser errors
// (ProtocolError, ServerProtocolViolation) come as families of codes.
const RETRYABLE_CODE_PREFIXES = ["ERR_TLS_", "ERR_SSL_", "HPE_"];

/**
 * Failures before a request could reach LuxSci: no connection (refused, unreachable, DNS) or
 * no TLS session. Every other transport failure (a reset, a timeout waiting for the reply, a
 * socket closed mid-reply) may come after LuxSci received and handled the request.
 */
const NOT_SENT_CODES: ReadonlySet<string> = new Set([
  "UND_ERR_CONNECT_TIMEOUT",
  "ECONNREFUSED",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "EHOSTDOWN",
  "ENETUNREACH",
  "ENETDOWN",
]);
const NOT_SENT_CODE_PREFIXES = ["ERR_TLS_", "ERR_SSL_"];

/**
 * HTTP statuses that say LuxSci did not carry the request out: it was refused as invalid or
 * unauthorised (4xx), limited (429), or turned away while LuxSci was unavailable (503, which
 * LuxSci answers before handling). 500, 502 and 504 are not here: a server error or a gateway
 * giving up says nothing about whether the call behind it took effect.
 */
function statusMeansRefused(status: number): boolean {
  return (status >= 400 && status < 500) || status === 503;
}

/** True when LuxSci certainly did not act on the call (see LuxSciError.refused). */
export function isRefusal(failure: Failure): boolean {
  if (failure.kind === "rate_limit" || failure.kind === "auth" || failure.kind === "max_jobs")
    return true;
  if (failure.status !== undefined) {
    // A 2xx that failed is either `success: 0` (LuxSci said no) or a garbled body (unknown).
    if (failure.status >= 200 && failure.status < 300) return failure.kind === "request";
    return statusMeansRefused(failure.status);
  }
  const code = failure.code;
  return (
    code !== undefined &&
    (NOT_SENT_CODES.has(code) || NOT_SENT_CODE_PREFIXES.some((p) => code.startsWith(p)))
  );
}

export type Failure =
  | {
      kind: "retryable";
      summary: string;
      status?: number;
      code?: string;
      luxsciMessage?: string;
      retryAfterMs?: number;
      cause?: unknown;
    }
  | { kind: "rate_limit"; status: number; luxsciMessage?: string; retryAfterMs?: number }
  | { kind: "auth"; status: number; luxsciMessage?: string }
  | {
      kind: "max_jobs";
      status: number;
      luxsciMessage?: string;
      currentJobs?: number;
      maxJobs?: number;
    }
  | {
      kind: "request";
      summary: string;
      status?: number;
      code?: string;
      luxsciMessage?: string;
      cause?: unknown;
    };

export type Envelope = Record<string, unknown> & {
  success?: unknown;
  auth?: unknown;
  data?: unknown;
};

export type Outcome = { ok: true; envelope: Envelope } | { ok: false; failure: Failure };

/** The error code of a Node/undici error, looking through `cause` (fetch-style wrapping). */
export function errorCode(error: unknown): string | undefined {
  for (let current = error, depth = 0; current && depth < 5; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === "string") return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

export function isRetryableErrorCode(code: string | undefined): boolean {
  if (!code) return false;
  return RETRYABLE_ERROR_CODES.has(code) || RETRYABLE_CODE_PREFIXES.some((p) => code.startsWith(p));
}

/** A request that never got a complete reply: retryable when on the seed's list. */
export function classifyTransportError(error: unknown): Failure {
  const code = errorCode(error);
  if (isRetryableErrorCode(code)) {
    return { kind: "retryable", summary: "transport failure", code: code as string, cause: error };
  }
  return { kind: "request", summary: "transport failure", ...(code ? { code } : {}), cause: error };
}

export interface RawReply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

/** Classifies a complete HTTP reply. `maxRetryAfterMs` caps LuxSci's Retry-After. */
export function classifyReply(reply: RawReply, maxRetryAfterMs?: number): Outcome {
  const { status } = reply;
  const envelope = parseEnvelope(reply.text);
  const luxsciMessage = failureMessage(envelope);
  const said = luxsciMessage === undefined ? {} : { luxsciMessage };
  if (status >= 200 && status < 300) {
    // A truncated or garbled 2xx body is a transport problem in disguise: retry it.
    if (!envelope)
      return { ok: false, failure: { kind: "retryable", summary: "malformed JSON reply", status } };
    if (envelope.success === 1 || envelope.success === "1" || envelope.success === true) {
      return { ok: true, envelope };
    }
    return {
      ok: false,
      failure: { kind: "request", summary: "LuxSci said success: 0", status, ...said },
    };
  }
  const retryAfterMs = parseRetryAfterMs(reply.headers["retry-after"], maxRetryAfterMs);
  const after = retryAfterMs === undefined ? {} : { retryAfterMs };
  if (status === 401 || status === 403)
    return { ok: false, failure: { kind: "auth", status, ...said } };
  if (status === 429)
    return { ok: false, failure: { kind: "rate_limit", status, ...said, ...after } };
  if (status === 409) {
    const data = (envelope?.data ?? {}) as Record<string, unknown>;
    return {
      ok: false,
      failure: {
        kind: "max_jobs",
        status,
        ...said,
        ...(typeof data.current_jobs === "number" ? { currentJobs: data.current_jobs } : {}),
        ...(typeof data.max_jobs === "number" ? { maxJobs: data.max_jobs } : {}),
      },
    };
  }
  if (RETRYABLE_STATUSES.has(status)) {
    return {
      ok: false,
      failure: { kind: "retryable", summary: "retryable HTTP status", status, ...said, ...after },
    };
  }
  return { ok: false, failure: { kind: "request", summary: "request refused", status, ...said } };
}

/**
 * LuxSci's message in a failure reply: `error`, else `error_message` (the field LuxSci's public
 * PHP client and its C#/VB samples read), so a reply carrying only one of them keeps its text.
 */
function failureMessage(envelope: Envelope | undefined): string | undefined {
  for (const field of ["error", "error_message"]) {
    const value = envelope?.[field];
    if (typeof value === "string" && value !== "") return value;
  }
  return undefined;
}

function parseEnvelope(text: string): Envelope | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return value !== null && typeof value === "object" && !Array.isArray(value)
      ? (value as Envelope)
      : undefined;
  } catch {
    // Not JSON: the caller decides (retryable for 2xx, the status decides otherwise).
    return undefined;
  }
}

/** Whether the client may retry this failure itself. */
export function isRetryableFailure(failure: Failure, retryRateLimited: boolean): boolean {
  return failure.kind === "retryable" || (failure.kind === "rate_limit" && retryRateLimited);
}

/** The named error for a failure that ends the call. `scrub` removes secrets from text. */
export function toLuxSciError(
  failure: Failure,
  where: { method: string; path: string; attempts: number },
  scrub: (text: string) => string,
): LuxSciError {
  const luxsciMessage =
    failure.luxsciMessage === undefined ? undefined : scrub(failure.luxsciMessage);
  const context: LuxSciErrorContext = {
    ...where,
    status: failure.status,
    luxsciMessage,
    refused: isRefusal(failure),
  };
  switch (failure.kind) {
    case "retryable":
      return new LuxSciRetryableError(
        { ...context, code: failure.code, cause: failure.cause },
        failure.summary,
      );
    case "rate_limit":
      return new LuxSciRateLimitError({ ...context, retryAfterMs: failure.retryAfterMs });
    case "auth":
      return new LuxSciAuthError(context);
    case "max_jobs":
      return new LuxSciMaxJobsError({
        ...context,
        ...(failure.currentJobs === undefined ? {} : { currentJobs: failure.currentJobs }),
        ...(failure.maxJobs === undefined ? {} : { maxJobs: failure.maxJobs }),
      });
    case "request":
      return new LuxSciRequestError(
        { ...context, code: failure.code, cause: failure.cause },
        failure.summary,
      );
  }
}
