import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LuxSciClient } from "../src/index.ts";
import { type SeedServer, startSeedServer } from "./helpers/seed-server.ts";

// iterateReport's stop rules over real HTTP, against a scripted report of N rows whose header
// order is shuffled: every row must come back exactly once, keyed by name.
const account = { user: "alice", token: "tok-alice", secret: "secret-alice-0123456789" };
const HEADER = ["template_id", "sendmail_id", "date_sent", "header1", "header1_value"];
let server: SeedServer;
let client: LuxSciClient;

function serveReport(total: number) {
  server.script = (request) => {
    if (!request.path.endsWith("/report/email/smtp/sent")) return undefined;
    const query = new URLSearchParams(request.query);
    const first = Number(query.get("first_row"));
    const matches = Number(query.get("matches"));
    const rows = [];
    for (let i = first; i < Math.min(total, first + matches); i++) {
      rows.push(["330814", `sm${i}`, "2024-05-01 00:00:00", "chid", `c_${i}`]);
    }
    const data = {
      matches_total: total,
      matches_returned: rows.length,
      first,
      header: HEADER,
      rows,
    };
    return { status: 200, body: { success: 1, auth: `auth-${first}`, data } };
  };
}

beforeAll(async () => {
  server = await startSeedServer(account);
  client = new LuxSciClient({ baseUrl: server.url, ...account, retryBaseMs: 1 });
});

afterAll(async () => {
  await client.close();
  await server.close();
});

describe("iterateReport", () => {
  it("120,000 rows in pages of 50,000: every row once", async () => {
    serveReport(120_000);
    server.requests.length = 0;
    const seen = new Set<string>();
    let pages = 0;
    for await (const page of client.iterateReport("sent", { matches: 50_000 })) {
      pages += 1;
      for (const row of page.rows) seen.add(String(row.sendmail_id));
    }
    expect(pages).toBe(3);
    expect(seen.size).toBe(120_000);
    const firstRows = server.requests
      .filter((r) => r.path.endsWith("/sent"))
      .map((r) => new URLSearchParams(r.query).get("first_row"));
    expect(firstRows).toEqual(["0", "50000", "100000"]);
  });

  it("stops at matches_total even when the last page is full", async () => {
    serveReport(100);
    server.requests.length = 0;
    const rows = [];
    for await (const row of client.iterateReportRows("sent", { matches: 50 })) rows.push(row);
    expect(rows).toHaveLength(100);
    expect(rows[99]).toMatchObject({ sendmail_id: "sm99", header1_value: "c_99" });
    expect(server.requests.filter((r) => r.path.endsWith("/sent"))).toHaveLength(2);
  });

  it("an empty report is one request", async () => {
    serveReport(0);
    server.requests.length = 0;
    const pages = [];
    for await (const page of client.iterateReport("sent")) pages.push(page);
    expect(pages).toHaveLength(1);
    expect(pages[0]?.rows).toEqual([]);
  });
});
