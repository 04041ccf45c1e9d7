import { describe, expect, it } from "vitest";
import {
  type LuxSciMessage,
  LuxSciValidationError,
  validatePaging,
  validateSendMessages,
} from "../src/index.ts";

const where = { method: "POST", path: "/perl/api/v2/user/alice/email/send" };
const message = (extra: Partial<LuxSciMessage> = {}): LuxSciMessage => ({
  from_address: "dev@example.com",
  to: ["a@example.com"],
  subject: "Hi",
  headers: [["chid", "1_2_3_4"]],
  ...extra,
});

function refusal(run: () => void): LuxSciValidationError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(LuxSciValidationError);
    return error as LuxSciValidationError;
  }
  throw new Error("expected a LuxSciValidationError");
}

describe("validateSendMessages", () => {
  it("accepts the limits exactly", () => {
    const full = message({
      to: Array.from({ length: 98 }, (_, i) => `t${i}@example.com`),
      cc: ["c@example.com"],
      bcc: ["b@example.com"],
      subject: "s".repeat(1000),
      from_name: "n".repeat(100),
      headers: Array.from({ length: 10 }, (_, i): [string, string] => [`h${i}`, "v"]),
    });
    expect(() => validateSendMessages(Array(1000).fill(full), where)).not.toThrow();
  });

  it("1001 messages", () => {
    const error = refusal(() => validateSendMessages(Array(1001).fill(message()), where));
    expect(error.field).toBe("messages");
    expect(error.messageIndex).toBeUndefined();
    expect(error.attempts).toBe(0);
    expect(error.path).toBe(where.path);
  });

  it("no messages", () => {
    expect(refusal(() => validateSendMessages([], where)).field).toBe("messages");
  });

  it("101 recipients across to+cc+bcc", () => {
    const bad = message({ to: Array(99).fill("a@example.com"), bcc: ["b@x.io", "c@x.io"] });
    const error = refusal(() => validateSendMessages([message(), bad], where));
    expect(error.messageIndex).toBe(1);
    expect(error.field).toBe("to");
  });

  it("11 headers", () => {
    const headers = Array.from({ length: 11 }, (_, i): [string, string] => [`h${i}`, "v"]);
    const error = refusal(() => validateSendMessages([message({ headers })], where));
    expect([error.messageIndex, error.field]).toEqual([0, "headers"]);
    expect(error.message).toContain("messages[0].headers");
  });

  it("CR/LF in a header name or value, without echoing the value", () => {
    const value = refusal(() =>
      validateSendMessages(
        [
          message(),
          message(),
          message({
            headers: [
              ["chid", "x"],
              ["x", "evil\r\nBcc: a@b.c"],
            ],
          }),
        ],
        where,
      ),
    );
    expect([value.messageIndex, value.field]).toEqual([2, "headers[1].value"]);
    expect(value.message).not.toContain("evil");
    const name = refusal(() =>
      validateSendMessages([message({ headers: [["a\nb", "v"]] })], where),
    );
    expect(name.field).toBe("headers[0].name");
  });

  it("subject of 1001 characters (code points, not UTF-16 units)", () => {
    expect(
      refusal(() => validateSendMessages([message({ subject: "s".repeat(1001) })], where)).field,
    ).toBe("subject");
    // 1000 emoji are 2000 UTF-16 units but 1000 characters: allowed.
    expect(() =>
      validateSendMessages([message({ subject: "😀".repeat(1000) })], where),
    ).not.toThrow();
  });

  it("from_name over 100 characters", () => {
    expect(
      refusal(() => validateSendMessages([message({ from_name: "n".repeat(101) })], where)).field,
    ).toBe("from_name");
  });
});

describe("validatePaging", () => {
  it("matches 1..50000, first_row ≥ 0", () => {
    expect(() => validatePaging({ firstRow: 0, matches: 50_000 }, where)).not.toThrow();
    expect(refusal(() => validatePaging({ matches: 50_001 }, where)).field).toBe("matches");
    expect(refusal(() => validatePaging({ matches: 0 }, where)).field).toBe("matches");
    expect(refusal(() => validatePaging({ firstRow: -1 }, where)).field).toBe("firstRow");
  });
});
