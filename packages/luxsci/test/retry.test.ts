import { describe, expect, it } from "vitest";
import { computeBackoffMs, parseRetryAfterMs } from "../src/index.ts";

describe("computeBackoffMs", () => {
  it("doubles from the base: 1 s, 2 s, 4 s ... (seed 000 retry strategy)", () => {
    const mid = () => 0.5; // jitter factor exactly 1
    expect([1, 2, 3, 4, 9].map((n) => computeBackoffMs(n, 1000, { random: mid }))).toEqual([
      1000, 2000, 4000, 8000, 256_000,
    ]);
  });

  it("jitters within ±20%", () => {
    expect(computeBackoffMs(3, 1000, { random: () => 0 })).toBe(3200);
    expect(computeBackoffMs(3, 1000, { random: () => 1 })).toBe(4800);
    for (let i = 0; i < 100; i++) {
      const ms = computeBackoffMs(2, 1000);
      expect(ms).toBeGreaterThanOrEqual(1600);
      expect(ms).toBeLessThanOrEqual(2400);
    }
  });

  it("caps one delay", () => {
    expect(computeBackoffMs(20, 1000, { maxMs: 60_000, random: () => 0.5 })).toBe(60_000);
  });
});

describe("parseRetryAfterMs", () => {
  const now = Date.parse("2024-05-01T12:00:00Z");

  it("delta seconds", () => {
    expect(parseRetryAfterMs("2", 60_000, now)).toBe(2000);
    expect(parseRetryAfterMs(["0"], 60_000, now)).toBe(0);
  });

  it("HTTP date, past dates give 0", () => {
    expect(parseRetryAfterMs("Wed, 01 May 2024 12:00:05 GMT", 60_000, now)).toBe(5000);
    expect(parseRetryAfterMs("Wed, 01 May 2024 11:00:00 GMT", 60_000, now)).toBe(0);
  });

  it("caps, and ignores junk", () => {
    expect(parseRetryAfterMs("86400", 120_000, now)).toBe(120_000);
    expect(parseRetryAfterMs("soon", 120_000, now)).toBeUndefined();
    expect(parseRetryAfterMs(undefined, 120_000, now)).toBeUndefined();
    expect(parseRetryAfterMs("-3", 120_000, now)).toBeUndefined();
  });
});
