import { describe, expect, it } from "vitest";
import { classifyReply, classifyTransportError, isRetryableErrorCode } from "../src/index.ts";

const reply = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  classifyReply({ status, headers, text: typeof body === "string" ? body : JSON.stringify(body) });

const kindOf = (outcome: ReturnType<typeof reply>) => (outcome.ok ? "ok" : outcome.failure.kind);

describe("classifyReply", () => {
  it("success: 1 is ok", () => {
    expect(kindOf(reply(200, { success: 1, auth: "a" }))).toBe("ok");
  });

  it("seed 000's retryable statuses", () => {
    for (const status of [404, 408, 417, 502, 503, 504]) {
      expect(kindOf(reply(status, { success: 0, error: "x" })), String(status)).toBe("retryable");
    }
  });

  it("429 is its own kind, with Retry-After", () => {
    const outcome = reply(429, { success: 0, error: "slow down" }, { "retry-after": "3" });
    expect(outcome.ok ? undefined : outcome.failure).toMatchObject({
      kind: "rate_limit",
      status: 429,
      retryAfterMs: 3000,
      luxsciMessage: "slow down",
    });
  });

  it("401 and 403 are auth failures", () => {
    expect(kindOf(reply(401, { success: 0, error: "bad signature" }))).toBe("auth");
    expect(kindOf(reply(403, { success: 0 }))).toBe("auth");
  });

  it("409 carries current and max jobs", () => {
    const outcome = reply(409, {
      success: 0,
      error: "max jobs (2) already running",
      data: { current_jobs: 2, max_jobs: 2 },
    });
    expect(outcome.ok ? undefined : outcome.failure).toMatchObject({
      kind: "max_jobs",
      currentJobs: 2,
      maxJobs: 2,
    });
  });

  it("400, 500, other 4xx and success: 0 with 200 are unrecoverable", () => {
    for (const status of [400, 405, 413, 422, 500]) {
      expect(kindOf(reply(status, { success: 0, error: "no" })), String(status)).toBe("request");
    }
    const ok0 = reply(200, { success: 0, error: "template not found" });
    expect(ok0.ok ? undefined : ok0.failure).toMatchObject({
      kind: "request",
      status: 200,
      luxsciMessage: "template not found",
    });
  });

  it("malformed JSON in a 2xx reply is retryable; in a 400 it stays unrecoverable", () => {
    expect(kindOf(reply(200, '{"success": 1, "da'))).toBe("retryable");
    expect(kindOf(reply(200, "[1]"))).toBe("retryable");
    expect(kindOf(reply(400, "<html>bad</html>"))).toBe("request");
    expect(kindOf(reply(503, "<html>busy</html>"))).toBe("retryable");
  });
});

describe("classifyTransportError", () => {
  const withCode = (code: string) => Object.assign(new Error(code), { code });

  it("timeouts, resets, DNS, TLS and parser errors are retryable", () => {
    for (const code of [
      "UND_ERR_CONNECT_TIMEOUT",
      "UND_ERR_HEADERS_TIMEOUT",
      "UND_ERR_BODY_TIMEOUT",
      "UND_ERR_SOCKET",
      "ECONNRESET",
      "ECONNREFUSED",
      "ENOTFOUND",
      "EAI_AGAIN",
      "EPIPE",
      "ETIMEDOUT",
      "ERR_TLS_CERT_ALTNAME_INVALID",
      "ERR_SSL_WRONG_VERSION_NUMBER",
      "HPE_INVALID_CONSTANT",
    ]) {
      expect(classifyTransportError(withCode(code)).kind, code).toBe("retryable");
    }
  });

  it("looks through cause (fetch-style wrapping)", () => {
    const wrapped = new TypeError("fetch failed", { cause: withCode("ECONNRESET") });
    expect(classifyTransportError(wrapped)).toMatchObject({
      kind: "retryable",
      code: "ECONNRESET",
    });
  });

  it("unknown failures are not retried", () => {
    expect(classifyTransportError(new Error("boom")).kind).toBe("request");
    expect(isRetryableErrorCode("UND_ERR_INVALID_ARG")).toBe(false);
  });
});
