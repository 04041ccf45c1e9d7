import { createHash, createHmac } from "node:crypto";

// LuxSci API v2 request signing (docs/luxsci-contract.md "Authentication"). Pure functions so
// the unit tests can check them against vectors computed independently with node:crypto.

export interface AuthSignatureInput {
  secret: string;
  token: string;
  /** Epoch seconds, as the string sent in the auth body. */
  date: string;
  /** User-scope auth only: the LuxSci user name and password. */
  user?: string | undefined;
  pass?: string | undefined;
}

/**
 * Signature of `POST /auth`: lowercase hex HMAC-SHA256 keyed by the API secret over
 * "token\ndate\n", with "user\npass\n" appended for user-scope auth. This is what LuxSci's
 * public API samples (the Perl and PHP clients in its API documentation) compute.
 */
export function signAuth(input: AuthSignatureInput): string {
  let payload = `${input.token}\n${input.date}\n`;
  if (input.user !== undefined && input.pass !== undefined) {
    payload += `${input.user}\n${input.pass}\n`;
  }
  return hmacHex(input.secret, payload);
}

export interface RequestSignatureInput {
  secret: string;
  auth: string;
  method: string;
  /** The path as sent, e.g. "/perl/api/v2/user/alice/profile". */
  path: string;
  /** Raw query string without "?", "" when none. */
  query: string;
  /** Exact body bytes; ignored for GET and DELETE, whose body hash is empty. */
  body?: string | Uint8Array | undefined;
}

/** Hex HMAC-SHA256(secret, auth\nMETHOD\npath\nquery\nbody_sha256_hex\n). */
export function signRequest(input: RequestSignatureInput): string {
  const method = input.method.toUpperCase();
  const bodyHash =
    method === "GET" || method === "DELETE" || input.body === undefined
      ? ""
      : sha256Hex(input.body);
  return hmacHex(
    input.secret,
    `${input.auth}\n${method}\n${input.path}\n${input.query}\n${bodyHash}\n`,
  );
}

/** The Cookie header every call after auth carries: "signature=<auth>:<request signature>". */
export function buildSignatureCookie(input: RequestSignatureInput): string {
  return `signature=${input.auth}:${signRequest(input)}`;
}

export function sha256Hex(data: string | Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

function hmacHex(key: string, payload: string): string {
  return createHmac("sha256", key).update(payload, "utf8").digest("hex");
}
