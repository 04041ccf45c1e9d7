import { describe, expect, it } from "vitest";
import { peakHour } from "../src/apply/engagement.ts";
import { isoUtc } from "../src/apply/publish.ts";
import { copyLine } from "../src/import/copy-stage.ts";
import { createWallClock, parseChid, parseWallTime } from "../src/import/index.ts";
import { mapReportRow } from "../src/import/map-row.ts";
import { OccurrenceCounter } from "../src/import/occurrences.ts";

// Pure parts of the import: report dates, zones, chids, row mapping, COPY escaping, the
// numbering of identical opens and clicks, and the events stream's times.

const CHANNEL = "21f174d0fe8442a9acf096bbd437276c";
const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

describe("parseWallTime", () => {
  it("reads LuxSci's GMT format and refuses anything else", () => {
    expect(iso(parseWallTime("2023-07-18 15:33:40"))).toBe("2023-07-18T15:33:40.000Z");
    expect(iso(parseWallTime("2024-02-29T23:59:59"))).toBe("2024-02-29T23:59:59.000Z");
    for (const bad of [
      "2023-02-29 10:00:00",
      "2023-13-01 10:00:00",
      "2023-07-18 24:00:00",
      "2023-07-18 15:33",
      "2023-07-18 15:33:40Z",
      "18/07/2023 15:33:40",
      "2023-07-18 1a:33:40",
    ]) {
      expect(parseWallTime(bad), bad).toBeNull();
    }
  });
});

describe("createWallClock", () => {
  const inZone = (zone: string | null, text: string) =>
    iso(createWallClock(zone).toInstant(parseWallTime(text) as number));

  it("is UTC by default", () => {
    expect(inZone(null, "2024-07-01 08:00:00")).toBe("2024-07-01T08:00:00.000Z");
    expect(inZone("UTC", "2024-07-01 08:00:00")).toBe("2024-07-01T08:00:00.000Z");
  });

  it("applies standard and daylight offsets", () => {
    expect(inZone("America/New_York", "2024-01-15 08:00:00")).toBe("2024-01-15T13:00:00.000Z");
    expect(inZone("America/New_York", "2024-07-01 08:00:00")).toBe("2024-07-01T12:00:00.000Z");
    expect(inZone("Europe/Berlin", "2024-07-01 08:00:00")).toBe("2024-07-01T06:00:00.000Z");
    expect(inZone("Asia/Kolkata", "2024-07-01 08:00:00")).toBe("2024-07-01T02:30:00.000Z");
    expect(inZone("Australia/Lord_Howe", "2024-01-15 08:00:00")).toBe("2024-01-14T21:00:00.000Z");
  });

  it("moves a skipped wall time forward and takes the earlier of a repeated one", () => {
    // 2024-03-10 02:30 does not exist in New York (clocks jump 02:00 -> 03:00 EDT).
    expect(inZone("America/New_York", "2024-03-10 02:30:00")).toBe("2024-03-10T07:30:00.000Z");
    expect(inZone("America/New_York", "2024-03-10 01:59:59")).toBe("2024-03-10T06:59:59.000Z");
    expect(inZone("America/New_York", "2024-03-10 03:00:00")).toBe("2024-03-10T07:00:00.000Z");
    // 2024-11-03 01:30 happens twice (EDT then EST): the first.
    expect(inZone("America/New_York", "2024-11-03 01:30:00")).toBe("2024-11-03T05:30:00.000Z");
    expect(inZone("America/New_York", "2024-11-03 02:30:00")).toBe("2024-11-03T07:30:00.000Z");
    // Lord Howe moves by 30 minutes: 02:00 -> 02:30 on 2024-10-06.
    expect(inZone("Australia/Lord_Howe", "2024-10-06 02:45:00")).toBe("2024-10-05T15:45:00.000Z");
    expect(inZone("Australia/Lord_Howe", "2024-10-06 01:45:00")).toBe("2024-10-05T15:15:00.000Z");
  });

  it("agrees with the exact conversion across a whole year of hours", () => {
    const clock = createWallClock("America/New_York");
    const format = new Intl.DateTimeFormat("en-US", {
      timeZone: "America/New_York",
      hourCycle: "h23",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
    });
    for (let ms = Date.UTC(2024, 0, 1); ms < Date.UTC(2025, 0, 1); ms += 3_600_000 + 17 * 60_000) {
      const part = (type: string) =>
        Number(format.formatToParts(ms).find((p) => p.type === type)?.value);
      const wall = Date.UTC(
        part("year"),
        part("month") - 1,
        part("day"),
        part("hour"),
        part("minute"),
      );
      const back = clock.toInstant(wall);
      // Round trip, except the repeated hour of the fall-back night, read as the first one.
      expect(back === ms || back === ms - 3_600_000, new Date(ms).toISOString()).toBe(true);
    }
  });

  it("refuses an unknown zone", () => {
    expect(() => createWallClock("Mars/Olympus")).toThrow(RangeError);
  });
});

describe("parseChid", () => {
  it("splits execution, offer, 32-hex channel and a contact id that may hold _", () => {
    expect(parseChid(`2790_2790_${CHANNEL}_1380076`)).toEqual({
      executionId: 2790,
      offerId: 2790,
      channelId: CHANNEL,
      contactId: "1380076",
    });
    expect(parseChid(`7_3_${CHANNEL}_a_b__c`)?.contactId).toBe("a_b__c");
  });

  it("refuses what luxrelay could not have written", () => {
    for (const bad of [
      "",
      "chid",
      `x_3_${CHANNEL}_c`,
      `7_3_${CHANNEL}_`,
      `7_3_${CHANNEL}`,
      `7_3_${CHANNEL.toUpperCase()}_c`,
      `7_3_${CHANNEL.slice(1)}_c`,
      `0_3_${CHANNEL}_c`,
    ]) {
      expect(parseChid(bad), bad).toBeNull();
    }
  });
});

describe("mapReportRow", () => {
  const utc = createWallClock(null);
  const tracked = { header1: "chid", header1_value: `7_3_${CHANNEL}_c1` };

  it("finds chid in any tracked header slot", () => {
    const row = {
      date_sent: "2024-01-01 00:00:00",
      sendmail_id: "SM1",
      to: " Ann@Example.COM ",
      header1: "rpid",
      header1_value: "M",
      header2: "CHID",
      header2_value: `7_3_${CHANNEL}_c1`,
    };
    const mapped = mapReportRow("sent", row, CHANNEL, utc);
    expect(mapped.outcome).toBe("events");
    if (mapped.outcome === "events") expect(mapped.events[0]?.[3]).toBe("ann@example.com");
  });

  it("matches delivery statuses without case and refuses unknown ones", () => {
    const row = (status: string) => ({
      ...tracked,
      last_updated: "2024-01-01 00:00:00",
      sendmail_id: "SM1",
      status,
    });
    const typeOf = (status: string) => {
      const mapped = mapReportRow("delivery", row(status), CHANNEL, utc);
      return mapped.outcome === "events" ? mapped.events[0]?.[1] : mapped.outcome;
    };
    expect(typeOf("hardfail")).toBe("hard_fail");
    expect(typeOf("SPAM")).toBe("spam");
    expect(typeOf("constructor")).toBe("problem");
    expect(typeOf("Deferred")).toBe("problem");
  });

  it("treats another channel's chid as not ours", () => {
    const row = {
      date_sent: "2024-01-01 00:00:00",
      sendmail_id: "SM1",
      header1: "chid",
      header1_value: `7_3_${"f".repeat(32)}_c1`,
    };
    expect(mapReportRow("sent", row, CHANNEL, utc).outcome).toBe("notOurs");
  });
});

describe("copyLine", () => {
  it("writes COPY text with nulls and escapes", () => {
    expect(
      copyLine([
        "SM1",
        "clicked",
        1,
        null,
        7,
        3,
        "c\\1",
        "chid",
        "a\tb",
        "line\nbreak\r",
        null,
        null,
        null,
      ]),
    ).toBe("SM1\tclicked\t1\t\\N\t7\t3\tc\\\\1\tchid\ta\\tb\tline\\nbreak\\r\t\\N\t\\N\t\\N\n");
  });
});

describe("isoUtc", () => {
  it("writes what toISOString writes, across days, before 1970 and at the edges of a second", () => {
    const instants = [0, -1, 999, 1000, 86_399_999, 86_400_000, -86_400_001, 1_793_500_000_003];
    // A deterministic spread over 1900-2100, in runs of the same day as the stream sees them.
    let ms = Date.UTC(1900, 0, 1);
    while (ms < Date.UTC(2100, 0, 1)) {
      instants.push(ms, ms + 7, ms + 61_010);
      ms += 997_003_211;
    }
    for (const instant of instants) expect(isoUtc(instant)).toBe(new Date(instant).toISOString());
  });
});

describe("peakHour", () => {
  it("is the earliest most common hour, null with no events", () => {
    const hours = (cells: Record<number, number>) => {
      const histogram = new Int32Array(24);
      for (const [hour, count] of Object.entries(cells)) histogram[Number(hour)] = count;
      return histogram;
    };
    expect(peakHour(hours({ 3: 1, 7: 4, 20: 2 }))).toBe(7);
    expect(peakHour(hours({ 21: 5, 9: 5, 14: 5 }))).toBe(9);
    expect(peakHour(hours({ 23: 1 }))).toBe(23);
    expect(peakHour(hours({}))).toBeNull();
    expect(peakHour(null)).toBeNull();
  });
});

describe("OccurrenceCounter", () => {
  const at = Date.UTC(2024, 4, 1, 9);
  it("numbers rows identical in every column, and only those", () => {
    const counter = new OccurrenceCounter();
    const row = ["SM1", at, "1.2.3.4", "UA", "https://a"] as const;
    expect([counter.next(...row), counter.next(...row), counter.next(...row)]).toEqual([0, 1, 2]);
    expect(counter.next("SM2", at, "1.2.3.4", "UA", "https://a")).toBe(0);
    expect(counter.next("SM1", at + 1000, "1.2.3.4", "UA", "https://a")).toBe(0);
    expect(counter.next("SM1", at, "1.2.3.5", "UA", "https://a")).toBe(0);
    expect(counter.next("SM1", at, "1.2.3.4", "UA2", "https://a")).toBe(0);
    expect(counter.next("SM1", at, "1.2.3.4", "UA", null)).toBe(0);
    // Fields are kept apart: text moving from one column to the next is another row.
    expect(counter.next("SM1", at, "1.2.3.4U", "A", "https://a")).toBe(0);
    expect(counter.next("SM1", at, "1.2.3.4", "UA", "https://a")).toBe(3);
  });

  it("keeps every count as its table grows", () => {
    const counter = new OccurrenceCounter();
    const rows = 100_000;
    for (let round = 0; round < 2; round++) {
      let wrong = 0;
      for (let i = 0; i < rows; i++) {
        if (counter.next(`SM${i % 5000}`, at + (i % 20) * 1000, "1.2.3.4", "UA", `u${i}`) !== round)
          wrong++;
      }
      expect(wrong).toBe(0);
    }
  });
});
