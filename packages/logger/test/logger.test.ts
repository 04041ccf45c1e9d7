import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { createLogger, isSecretKey, REDACTED, redactString } from "../src/index.ts";

function capture() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, callback) {
      lines.push(...String(chunk).trim().split("\n"));
      callback();
    },
  });
  const log = createLogger({ name: "test", level: "trace", destination });
  return { log, lines, parsed: () => lines.map((line) => JSON.parse(line)) };
}

const SECRETS = ["hunter2", "s3cr3t-api", "tok-123", "sftp-pw", "db-pw", "sig-abc", "auth-xyz"];

describe("createLogger", () => {
  it("writes one JSON line per event with level, time, name and fields", () => {
    const { log, parsed } = capture();
    log.info({ executionId: 12, batchId: 3 }, "batch sent");
    expect(parsed()).toEqual([
      expect.objectContaining({
        level: "info",
        name: "test",
        executionId: 12,
        batchId: 3,
        msg: "batch sent",
      }),
    ]);
    expect(parsed()[0].time).toMatch(/^\d{4}-\d\d-\d\dT/);
  });

  it("never writes a secret, wherever it is", () => {
    const { log, lines } = capture();
    log.info(
      {
        channel: { luxsciUser: "alice", luxsciSecret: "s3cr3t-api", luxsciPasswordEnc: "v1:x:y:z" },
        auth: { user: "alice", pass: "hunter2", token: "tok-123" },
        sftp: "sftp://exports:sftp-pw@127.0.0.1:2222/out",
        headers: { cookie: "signature=sig-abc" },
      },
      "connecting to postgresql://app:db-pw@db/luxrelay",
    );
    log.error({
      err: new Error("export to sftp://u:sftp-pw@h failed, destination_password=sftp-pw"),
    });
    log.child({ token: "tok-123" }).warn("reply %s", "auth=auth-xyz&x=1");
    const text = lines.join("\n");
    for (const secret of SECRETS) expect(text).not.toContain(secret);
    expect(text).toContain("alice");
    expect(text).toContain("sftp://exports:***@127.0.0.1:2222/out");
    expect(text).toContain("postgresql://app:***@db/luxrelay");
  });

  it("keeps an error's type and (scrubbed) message", () => {
    const { log, parsed } = capture();
    class LuxSciAuthError extends Error {
      override name = "LuxSciAuthError";
    }
    log.error({ err: new LuxSciAuthError("refused for pass=hunter2") }, "auth failed");
    const [line] = parsed();
    expect(line.err.type).toBe("LuxSciAuthError");
    expect(line.err.message).toBe("refused for pass=[redacted]");
  });
});

describe("secret keys", () => {
  const SECRET_KEYS = [
    "password",
    "Password",
    "luxsciPassword",
    "luxsci_password",
    "sftpPassword",
    "sftp_password",
    "DASHBOARD_PASSWORD",
    "destination_password",
    "passwd",
    "pass",
    "passphrase",
    "secret",
    "luxsciSecret",
    "luxsciSecretEnc",
    "sftp_password_enc",
    "clientSecret",
    "client_secret",
    "secretKey",
    "SECRET_KEY",
    "SECRET_KEY_PREVIOUS",
    "apiKey",
    "api_key",
    "x-api-key",
    "APIKey",
    "apikey",
    "accessToken",
    "access_token",
    "refreshToken",
    "refresh_token",
    "token",
    "luxsciToken",
    "privateKey",
    "private_key",
    "authorization",
    "Authorization",
    "auth",
    "cookie",
    "set-cookie",
    "signature",
    "credentials",
  ];
  const PLAIN_KEYS = [
    "luxsciUser",
    "luxsciTokenHint",
    "hasPassword",
    "hasSecret",
    "hasSftpPassword",
    "tokens",
    "sftpHostKey",
    "apiKeyName",
    "key",
    "keyId",
    "authMode",
    "batchId",
  ];

  it("redacts every secret-looking key, camelCase, snake_case or kebab-case, and no other", () => {
    expect(SECRET_KEYS.filter((key) => !isSecretKey(key))).toEqual([]);
    expect(PLAIN_KEYS.filter((key) => isSecretKey(key))).toEqual([]);
    const { log, parsed } = capture();
    log.info({ channel: Object.fromEntries(SECRET_KEYS.map((key) => [key, `v-${key}`])) });
    const [line] = parsed();
    for (const key of SECRET_KEYS) expect(line.channel[key]).toBe(REDACTED);
  });
});

describe("redactString", () => {
  it("leaves text without credentials alone", () => {
    expect(redactString("sent 1000 messages to https://rest.luxsci.com/perl/api/v2")).toBe(
      "sent 1000 messages to https://rest.luxsci.com/perl/api/v2",
    );
  });
});
