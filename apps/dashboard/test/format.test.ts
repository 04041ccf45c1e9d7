import { describe, expect, it } from "vitest";
import { checkBasicAuth, formatJobData, formatJobName, maskText } from "../src/index.ts";

describe("formatJobData", () => {
  it("keeps ids and short plain values", () => {
    expect(
      formatJobData({
        executionId: 7,
        batchId: "batch-3",
        channel_id: 12,
        contactIds: [1, 2, 3],
        kind: "send",
        attempt: 2,
        dryRun: false,
        note: null,
      }),
    ).toEqual({
      executionId: 7,
      batchId: "batch-3",
      channel_id: 12,
      contactIds: [1, 2, 3],
      kind: "send",
      attempt: 2,
      dryRun: false,
      note: null,
    });
  });

  it("redacts secret-looking keys at any depth", () => {
    expect(
      formatJobData({
        password: "hunter2",
        apiSecret: "s",
        auth: { user: "u" },
        channel: { luxsciToken: "t", sftpKey: "k", cookie: "c", signature: "x", credentials: [1] },
      }),
    ).toEqual({
      password: "[redacted]",
      apiSecret: "[redacted]",
      auth: "[redacted]",
      channel: {
        luxsciToken: "[redacted]",
        sftpKey: "[redacted]",
        cookie: "[redacted]",
        signature: "[redacted]",
        credentials: "[redacted]",
      },
    });
  });

  it("reduces recipient lists and merge data to counts", () => {
    expect(
      formatJobData({
        recipients: ["a@x.com", "b@x.com"],
        emails: [{ to: "a@x.com" }],
        to: "a@x.com",
        contacts: { a: 1, b: 2, c: 3 },
        messages: [],
        templateData: { first_name: "Ann" },
        data: { anything: 1 },
        messageCount: 12,
      }),
    ).toEqual({
      recipients: "[2 items]",
      emails: "[1 items]",
      to: "[redacted]",
      contacts: "[3 items]",
      messages: "[0 items]",
      templateData: "[1 items]",
      data: "[1 items]",
      messageCount: 12,
    });
  });

  it("scrubs strings and bounds size", () => {
    expect(
      formatJobData({
        sftpUrl: "sftp://u:pw123@host/dir",
        query: "https://h/x?destination_password=abc&y=1",
        note: "bounced for a@x.com",
        body: "x".repeat(500),
        rows: [[1], [2]],
        nested: [{ a: 1 }],
        deep: { a: { b: { c: { d: { e: 1 } } } } },
      }),
    ).toEqual({
      sftpUrl: "sftp://u:***@host/dir",
      query: "https://h/x?destination_password=[redacted]&y=1",
      note: "bounced for [email]",
      body: "[500 chars]",
      rows: "[2 items]",
      nested: "[1 items]",
      deep: { a: { b: { c: "[1 items]" } } },
    });
  });

  it("formats non-object payloads and names", () => {
    expect(formatJobData(undefined)).toBeUndefined();
    expect(formatJobData(42)).toBe(42);
    expect(formatJobData("sftp://u:pw@h/")).toBe("sftp://u:***@h/");
    expect(formatJobName({ name: "send-batch" })).toBe("send-batch");
    expect(formatJobName({})).toBe("");
    expect(maskText("to a@x.com via sftp://u:pw@sftp.example.com/")).toBe(
      "to [email] via sftp://u:***@sftp.example.com/",
    );
  });
});

describe("checkBasicAuth", () => {
  const expected = { user: "admin", password: "pa:ss-word-123" };
  const header = (text: string) => `Basic ${Buffer.from(text).toString("base64")}`;

  it("accepts only the exact user and password", () => {
    expect(checkBasicAuth(header("admin:pa:ss-word-123"), expected)).toBe(true);
    expect(checkBasicAuth(header("admin:pa:ss-word-12"), expected)).toBe(false);
    expect(checkBasicAuth(header("Admin:pa:ss-word-123"), expected)).toBe(false);
    expect(checkBasicAuth(header("admin"), expected)).toBe(false);
    expect(checkBasicAuth("Bearer x", expected)).toBe(false);
    expect(checkBasicAuth(undefined, expected)).toBe(false);
  });
});
