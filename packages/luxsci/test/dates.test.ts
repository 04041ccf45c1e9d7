import { describe, expect, it } from "vitest";
import { epochSeconds, formatLuxSciDate, parseLuxSciDate } from "../src/index.ts";

describe("LuxSci dates", () => {
  it("formats in GMT as YYYY-MM-DD HH:MM:SS, dropping milliseconds", () => {
    expect(formatLuxSciDate(new Date("2023-07-18T08:38:02.999Z"))).toBe("2023-07-18 08:38:02");
    // A non-UTC offset must come out in GMT.
    expect(formatLuxSciDate(new Date("2023-01-01T01:02:03+05:00"))).toBe("2022-12-31 20:02:03");
  });

  it("rejects an invalid Date", () => {
    expect(() => formatLuxSciDate(new Date("nope"))).toThrow(RangeError);
  });

  it("parses back, and refuses impossible dates", () => {
    expect(parseLuxSciDate("2023-07-18 15:33:40")?.toISOString()).toBe("2023-07-18T15:33:40.000Z");
    expect(parseLuxSciDate("2023-02-30 00:00:00")).toBeUndefined();
    expect(parseLuxSciDate("2023-07-18T15:33:40Z")).toBeUndefined();
  });

  it("epoch seconds as a string", () => {
    expect(epochSeconds(1_689_322_869_999)).toBe("1689322869");
  });
});
