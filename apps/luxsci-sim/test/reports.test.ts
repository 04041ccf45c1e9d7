import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Simulator, startSimulator } from "../src/index.ts";
import { ALICE, admin, message, TestClient } from "./helpers.ts";

// Report pages (seed 000 inbound step 1): date window, header1 like/eq, paging.
let sim: Simulator;
let client: TestClient;

beforeAll(async () => {
  sim = await startSimulator({ seed: 11, accounts: [ALICE], eventDelayScale: 0.001 });
  client = new TestClient(sim.url);
});
afterAll(() => sim.close());

const sentPath = (query: string) =>
  `/user/alice/report/email/smtp/sent?tracked_headers=true&${query}`;
const gmt = (ms: number) => new Date(ms).toISOString().slice(0, 19).replace("T", " ");
const q = (text: string) => encodeURIComponent(text).replaceAll("%20", "+");

describe("reports", () => {
  it("filters by date window and header1 like/eq", async () => {
    sim.reset();
    const t0 = Date.now();
    await client.call("POST", "/user/alice/email/send", {
      messages: [
        message(1, { headers: [["chid", "10_10_chA_1"]] }),
        message(2, { headers: [["chid", "10x10_chB_2"]] }),
      ],
    });
    sim.advanceClock(3600);
    await client.login();
    await client.call("POST", "/user/alice/email/send", {
      messages: [message(3, { headers: [["chid", "11_11_chA_3"]] })],
    });
    const like = await client.call(
      "GET",
      sentPath("first_row=0&matches=10&header1=chid&header1_operator=like&header1_value=_chA"),
    );
    expect(like.json.data.matches_total).toBe(2);
    // `_` matches any one character: "10_10" also finds "10x10_chB_2".
    const underscore = await client.call(
      "GET",
      sentPath("header1=chid&header1_operator=like&header1_value=10_10"),
    );
    expect(underscore.json.data.matches_total).toBe(2);
    const eq = await client.call(
      "GET",
      sentPath("header1=chid&header1_operator=eq&header1_value=10x10_chB_2"),
    );
    expect(eq.json.data.matches_total).toBe(1);
    const after = await client.call("GET", sentPath(`after_date=${q(gmt(t0 + 1800_000))}`));
    expect(after.json.data.matches_total).toBe(1);
    const before = await client.call(
      "GET",
      sentPath(`after_date=${q(gmt(t0 - 5000))}&before_date=${q(gmt(t0 + 1800_000))}`),
    );
    expect(before.json.data.matches_total).toBe(2);
    sim.settleEvents();
    await client.login();
    const delivery = await client.call("GET", "/user/alice/report/email/smtp/delivery?matches=10");
    expect(delivery.json.data.matches_total).toBe(3);
    const statusAt = delivery.json.data.header.indexOf("status");
    for (const row of delivery.json.data.rows) {
      expect(["Delivered", "HardFail", "Failed", "Spam"]).toContain(row[statusAt]);
    }
    sim.reset();
  });

  it("refuses matches over 50000 and a malformed date", async () => {
    await client.login();
    const big = await client.call("GET", sentPath("matches=50001"));
    expect(big.status).toBe(400);
    expect(big.json.error).toMatch(/matches/);
    const date = await client.call("GET", sentPath("after_date=yesterday"));
    expect(date.status).toBe(400);
  });

  it("pages 120,000 rows: every row exactly once, stable order", async () => {
    sim.reset();
    await client.login();
    const seeded = await admin(sim.origin, "POST", "/seed", {
      count: 120_000,
      chidPrefix: "7_7_chP_",
    });
    expect(seeded.json.count).toBe(120_000);
    const seen = new Set<string>();
    let first = 0;
    for (;;) {
      const page = await client.call(
        "GET",
        sentPath(
          `first_row=${first}&matches=50000&header1=chid&header1_operator=like&header1_value=_chP_`,
        ),
      );
      expect(page.json.data.matches_total).toBe(120_000);
      const at = page.json.data.header.indexOf("sendmail_id");
      for (const row of page.json.data.rows) seen.add(row[at]);
      first += page.json.data.matches_returned;
      if (page.json.data.matches_returned < 50_000) break;
    }
    expect(first).toBe(120_000);
    expect(seen.size).toBe(120_000);
  });

  it("the suppression list holds every unsubscribe and every complaint, one row per address", async () => {
    const local = await startSimulator({
      seed: 5,
      accounts: [ALICE],
      eventDelayScale: 0.001,
      eventRates: { hardFail: 0, failed: 0, spam: 0, unsubscribe: 0.1, fbl: 0.1 },
    });
    try {
      const localClient = new TestClient(local.url);
      const messages = Array.from({ length: 400 }, (_, i) => message(i));
      // r0..r199 twice: an address that complains or unsubscribes twice is listed once.
      await localClient.call("POST", "/user/alice/email/send", { messages });
      await localClient.call("POST", "/user/alice/email/send", {
        messages: messages.slice(0, 200),
      });
      local.settleEvents();
      const fbl = await localClient.call(
        "GET",
        "/user/alice/report/email/fbl?first_row=0&matches=1000",
      );
      const toAt = fbl.json.data.header.indexOf("to");
      const complained = new Set<string>(fbl.json.data.rows.map((row: string[]) => row[toAt]));
      expect(complained.size).toBeGreaterThan(10);
      const list = await localClient.call("GET", "/user/alice/suppression");
      const emails = list.json.data.map((row: unknown[]) => row[0]);
      expect(new Set(emails).size).toBe(emails.length);
      for (const email of complained) expect(emails).toContain(email);
      const reasons = list.json.data.map((row: unknown[]) => row[6] as string);
      expect(reasons.some((r: string) => r.startsWith("Unsubscribe link used from "))).toBe(true);
      expect(reasons.some((r: string) => r.startsWith("Feedback loop complaint"))).toBe(true);
      expect(emails.length).toBeGreaterThan(complained.size);
    } finally {
      await local.close();
    }
  });
});
