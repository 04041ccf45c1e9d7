import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type Simulator, startSimulator } from "../src/index.ts";
import { ALICE, admin, message, TestClient } from "./helpers.ts";

// LuxSci's reports at their worst: rows that appear only some time after their date (report
// lag), rows dated ahead of LuxSci's clock, rows out of date order. Inbound must survive all
// three; these tests pin down what the simulator shows.
let sim: Simulator;
let client: TestClient;

beforeAll(async () => {
  sim = await startSimulator({
    seed: 21,
    accounts: [ALICE],
    eventDelayScale: 0.001,
    eventRates: { hardFail: 0, failed: 0, spam: 0, open: 1, click: 1 },
  });
  client = new TestClient(sim.url);
});
afterAll(() => sim.close());
beforeEach(async () => {
  sim.reset();
  await client.login();
});

const gmt = (ms: number) => new Date(ms).toISOString().slice(0, 19).replace("T", " ");
const parseGmt = (text: string) => Date.parse(`${text.replace(" ", "T")}Z`);
const send = (from: number, count: number) =>
  client.call("POST", "/user/alice/email/send", {
    messages: Array.from({ length: count }, (_, i) => message(from + i)),
  });

/** Every row of a report, paged `matches` at a time, as header-keyed records. */
async function readReport(kind: string, matches = 1000, between?: () => Promise<void>) {
  const rows: Record<string, string>[] = [];
  for (let first = 0; ; ) {
    const page = await client.call(
      "GET",
      `/user/alice/report/email/smtp/${kind}?first_row=${first}&matches=${matches}`,
    );
    expect(page.status, page.text).toBe(200);
    const { header, rows: pageRows, matches_returned: returned } = page.json.data;
    for (const row of pageRows) {
      rows.push(Object.fromEntries(header.map((name: string, i: number) => [name, row[i]])));
    }
    first += returned;
    if (returned < matches) return rows;
    await between?.();
  }
}

const clockNow = async () => (await admin(sim.origin, "GET", "/clock")).json.nowMs as number;

describe("report lag", () => {
  it("a row shows once the clock is at its date + the lag, still with its own date", async () => {
    const set = await admin(sim.origin, "POST", "/report-lag", { ms: 60_000 });
    expect(set.json).toMatchObject({ reportLagMs: 60_000 });
    await send(0, 3);
    const entries = sim.ledgerEntries({ chids: ["2790_2790_ch1_0"] });
    const sentAtMs = entries[0]?.sentAtMs as number;
    expect(await readReport("sent")).toHaveLength(0);
    sim.advanceClock(30);
    await client.login();
    expect(await readReport("sent")).toHaveLength(0);
    expect(await readReport("delivery")).toHaveLength(0);
    sim.advanceClock(31);
    await client.login();
    const sent = await readReport("sent");
    expect(sent).toHaveLength(3);
    expect(sent[0]?.date_sent).toBe(gmt(sentAtMs));
    const delivery = await readReport("delivery");
    expect(delivery).toHaveLength(3);
    const deliveredAt = sentAtMs + (entries[0]?.events.deliveryMs as number);
    expect(delivery.find((row) => row.sendmail_id === entries[0]?.sendmailId)?.last_updated).toBe(
      gmt(deliveredAt),
    );
  });

  it("settle moves the clock past every event plus the lag; the setter and GET agree", async () => {
    expect(sim.setReportLag(600_000)).toMatchObject({ reportLagMs: 600_000 });
    expect((await admin(sim.origin, "GET", "/report-lag")).json.reportLagMs).toBe(600_000);
    await send(0, 5);
    sim.settleEvents();
    await client.login();
    expect(await readReport("sent")).toHaveLength(5);
    expect(await readReport("delivery")).toHaveLength(5);
    expect((await readReport("opens")).length).toBeGreaterThanOrEqual(5);
    await send(5, 5);
    await admin(sim.origin, "POST", "/events/settle");
    await client.login();
    expect(await readReport("delivery")).toHaveLength(10);
  });

  it("refuses a bad lag; reset returns to the start options", async () => {
    const bad = await admin(sim.origin, "POST", "/report-lag", { ms: -1 });
    expect(bad.status).toBe(400);
    expect(bad.json.error).toMatch(/reportLagMs/);
    expect((await admin(sim.origin, "POST", "/report-lag", {})).status).toBe(400);
    sim.setReportLag(5_000);
    sim.reset();
    expect(sim.reportSettings().reportLagMs).toBe(0);
  });
});

describe("report disorder", () => {
  it("future rows: a share of delivery/open/click rows dated an hour past the clock", async () => {
    sim.setReportLag(5_000);
    const set = await admin(sim.origin, "POST", "/report-disorder", { futureEventRate: 0.3 });
    expect(set.json).toEqual({
      reportLagMs: 5_000,
      futureEventRate: 0.3,
      futureEventMs: 3_600_000,
      shuffleReports: false,
    });
    await send(0, 60);
    sim.settleEvents();
    await client.login();
    const now = await clockNow();
    const entries = new Map(
      sim
        .ledgerEntries({ chids: Array.from({ length: 60 }, (_, i) => `2790_2790_ch1_${i}`) })
        .map((entry) => [entry.sendmailId, entry]),
    );
    for (const [kind, dateField] of [
      ["delivery", "last_updated"],
      ["opens", "open_date"],
      ["clicks", "click_date"],
    ] as const) {
      const rows = await readReport(kind);
      const future = rows.filter((row) => parseGmt(row[dateField] as string) > now);
      expect(future.length, kind).toBeGreaterThan(rows.length * 0.1);
      expect(future.length, kind).toBeLessThan(rows.length * 0.5);
      for (const row of future) {
        expect(parseGmt(row[dateField] as string)).toBeGreaterThan(now + 3_000_000);
      }
      // The same rows, the same dates, on every read.
      expect(await readReport(kind)).toEqual(rows);
      if (kind === "delivery") {
        for (const row of future) {
          const entry = entries.get(row.sendmail_id as string);
          const deliveredAt = (entry?.sentAtMs as number) + (entry?.events.deliveryMs as number);
          // Shown from deliveredAt + lag, dated futureEventMs after that.
          expect(row.last_updated).toBe(gmt(deliveredAt + 5_000 + 3_600_000));
        }
      }
    }
    // after_date finds them: what an inbound cursor at "now" would skip past.
    const after = await client.call(
      "GET",
      `/user/alice/report/email/smtp/delivery?matches=1000&after_date=${encodeURIComponent(gmt(now + 1000))}`,
    );
    expect(after.json.data.matches_total).toBeGreaterThan(0);
    for (const row of await readReport("sent")) {
      expect(parseGmt(row.date_sent as string)).toBeLessThanOrEqual(now);
    }
  });

  it("shuffled rows: not in date order, yet paging sees each row once while sends go on", async () => {
    const base = (await clockNow()) - 600_000;
    for (let b = 0; b < 20; b++) {
      sim.seedLedger({ count: 5, chidPrefix: `s${b}_`, sentAtMs: base + b * 10_000 });
    }
    const inOrder = await readReport("sent");
    expect(inOrder.map((row) => row.date_sent)).toEqual(inOrder.map((row) => row.date_sent).sort());
    sim.setReportLag(60_000);
    const set = await admin(sim.origin, "POST", "/report-disorder", { shuffleReports: true });
    expect(set.json.shuffleReports).toBe(true);
    const dates = (rows: Record<string, string>[]) => rows.map((row) => row.date_sent);
    // Messages sent between pages are not visible yet (lag): the visible rows stay the same.
    let extra = 0;
    const paged = await readReport("sent", 7, async () => {
      sim.seedLedger({ count: 3, chidPrefix: `late${extra++}_` });
    });
    expect(paged).toHaveLength(100);
    expect(new Set(paged.map((row) => row.sendmail_id)).size).toBe(100);
    expect(new Set(paged.map((row) => row.sendmail_id))).toEqual(
      new Set(inOrder.map((row) => row.sendmail_id)),
    );
    expect(dates(paged)).not.toEqual([...dates(paged)].sort());
    // Stable: the same order on every read.
    expect((await readReport("sent")).slice(0, 100)).toEqual(paged);
  });

  it("options at start; bad values refused; reset keeps the start options", async () => {
    const local = await startSimulator({
      seed: 4,
      accounts: [ALICE],
      reportLagMs: 2_000,
      futureEventRate: 0.2,
      futureEventMs: 60_000,
      shuffleReports: true,
    });
    try {
      const start = {
        reportLagMs: 2_000,
        futureEventRate: 0.2,
        futureEventMs: 60_000,
        shuffleReports: true,
      };
      expect(local.reportSettings()).toEqual(start);
      expect(local.setReportDisorder({ shuffleReports: false })).toEqual({
        ...start,
        shuffleReports: false,
      });
      expect(() => local.setReportDisorder({ futureEventRate: 2 })).toThrow(/futureEventRate/);
      const bad = await admin(local.origin, "POST", "/report-disorder", { shuffleReports: "yes" });
      expect(bad.status).toBe(400);
      expect(bad.json.error).toMatch(/shuffleReports/);
      local.reset();
      expect(local.reportSettings()).toEqual(start);
    } finally {
      await local.close();
    }
    await expect(startSimulator({ futureEventRate: 1.5 })).rejects.toThrow(/futureEventRate/);
  });
});
