import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { LuxSciCell, ReportKind, ReportPage, ReportRow } from "@luxrelay/luxsci";
import { REPORT_HEADERS } from "@luxrelay/luxsci-sim";
import { MIGRATIONS_DIR } from "@luxrelay/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { importReportRows } from "../src/import/import-rows.ts";
import { syncChannelByApi } from "../src/sync/api-sync.ts";
import { withStandInApiSync } from "../src/testing.ts";
import {
  type ChannelFixture,
  createChannel,
  type SyncFixture,
  startSyncFixture,
} from "./fixture.ts";

// Every open and click LuxSci reports is stored (README "Identity of an event"): two opens of
// a message in the same second are two events, told apart by ip, user agent and url, or, when
// identical in every column, by their ordinal in one read of the report; a page, a file or a
// report read twice still adds nothing.

let fx: SyncFixture;
let channel: ChannelFixture;

beforeAll(async () => {
  fx = await startSyncFixture();
  channel = await createChannel(fx, "http://127.0.0.1:9/unused");
});

afterAll(async () => {
  await fx?.close();
});

const SAFARI = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Safari/604.1";
const YAHOO = "YahooMailProxy; https://help.yahoo.com/kb/yahoo-mail-proxy-SLN28749.html";

function row(kind: "opens" | "clicks", sendmailId: string, values: Record<string, LuxSciCell>) {
  const cells: Record<string, LuxSciCell> = {
    date_sent: "2024-05-01 08:00:00",
    to: `${sendmailId.toLowerCase()}@example.com`,
    status: "Delivered",
    sendmail_id: sendmailId,
    header1: "chid",
    header1_value: channel.chid(sendmailId),
    user_agent: YAHOO,
    ...values,
  };
  const keyed: ReportRow = {};
  for (const name of REPORT_HEADERS[kind]) keyed[name] = cells[name] ?? null;
  return keyed;
}

const open = (sendmailId: string, at: string, ip = "69.147.89.136", userAgent = YAHOO) =>
  row("opens", sendmailId, { open_date: at, opener_ip: ip, user_agent: userAgent });
const click = (sendmailId: string, at: string, url: string, ip = "180.190.229.9") =>
  row("clicks", sendmailId, { click_date: at, url, clicker_ip: ip, user_agent: SAFARI });

async function store(kind: ReportKind, rows: ReportRow[]) {
  return importReportRows(fx.deps, {
    channelId: channel.channelId,
    kind,
    rows: rows.map((r, i) => ({ line: i + 1, row: r })),
    source: `${kind} test page`,
  });
}

async function stored(sendmailId: string) {
  const { rows } = await fx.deps.pool.query(
    `SELECT type::text, occurred_at, ip, user_agent, url, ordinal FROM email_event
      WHERE sendmail_id = $1 ORDER BY type, occurred_at, ip, url, ordinal`,
    [sendmailId],
  );
  return rows;
}

describe("opens and clicks", () => {
  it("keeps every open and click of a message in one second, and a page imported twice adds nothing", async () => {
    const at = "2024-05-01 09:00:00";
    const opens = [
      open("SM-ID1", at),
      open("SM-ID1", at), // identical in every column to the first
      open("SM-ID1", at, "203.0.113.9"), // another reader, same second
      open("SM-ID1", at, "69.147.89.136", SAFARI), // the same ip, another client
    ];
    const clicks = [
      click("SM-ID1", at, "https://example.com/a"),
      click("SM-ID1", at, "https://example.com/a"),
      click("SM-ID1", at, "https://example.com/b"),
    ];
    expect((await store("opens", opens)).inserted).toBe(4);
    expect((await store("clicks", clicks)).inserted).toBe(3);
    const rows = await stored("SM-ID1");
    expect(rows.map((r) => [r.type, r.ip, r.url, r.ordinal])).toEqual([
      ["clicked", "180.190.229.9", "https://example.com/a", 0],
      ["clicked", "180.190.229.9", "https://example.com/a", 1],
      ["clicked", "180.190.229.9", "https://example.com/b", 0],
      ["opened", "203.0.113.9", null, 0],
      ["opened", "69.147.89.136", null, 0],
      ["opened", "69.147.89.136", null, 0],
      ["opened", "69.147.89.136", null, 1],
    ]);
    expect((await store("opens", opens)).inserted).toBe(0);
    expect((await store("clicks", [...clicks].reverse())).inserted).toBe(0);
  });

  it("stores the most identical rows any one read showed, not their sum over reads", async () => {
    const at = "2024-05-01 10:00:00";
    // A first read shows one open; a later one shows three identical ones (LuxSci had not
    // shown the others yet): three are stored, not four.
    expect((await store("opens", [open("SM-ID2", at)])).inserted).toBe(1);
    const three = [open("SM-ID2", at), open("SM-ID2", at), open("SM-ID2", at)];
    expect((await store("opens", three)).inserted).toBe(2);
    expect((await store("opens", three)).inserted).toBe(0);
    expect((await store("opens", [open("SM-ID2", at)])).inserted).toBe(0);
    expect(await stored("SM-ID2")).toHaveLength(3);
  });

  it("numbers identical rows across the pages and imports of one API read", async () => {
    const at = "2024-05-01 11:00:00";
    // Pages of 2 rows, 2 pages per import: the three identical opens of SM-ID3 are rows 4-6 of
    // the read, split across its first and second import (two transactions).
    const rows = [
      open("SM-ID4", "2024-05-01 11:00:01"),
      open("SM-ID4", "2024-05-01 11:00:02"),
      open("SM-ID4", "2024-05-01 11:00:03"),
      open("SM-ID3", at),
      open("SM-ID3", at),
      open("SM-ID3", at),
      open("SM-ID4", "2024-05-01 11:00:04"),
    ];
    const pages = (kind: ReportKind): ReportPage[] =>
      kind !== "opens"
        ? []
        : [0, 2, 4, 6].map((first) => ({
            kind,
            matchesTotal: rows.length,
            matchesReturned: Math.min(2, rows.length - first),
            first,
            firstRow: first,
            header: [...REPORT_HEADERS.opens],
            rows: rows.slice(first, first + 2),
          }));
    const standIn = {
      async *iterateReport(kind: ReportKind) {
        yield* pages(kind);
      },
    };
    await withStandInApiSync(fx.deps, fx.db.url, standIn, async (deps) => {
      const first = await syncChannelByApi(deps, channel.channelId, { pageSize: 2 });
      const opens = first.kinds.find((kind) => kind.kind === "opens");
      expect(opens).toMatchObject({ pages: 4, offered: 7, inserted: 7 });
      const again = await syncChannelByApi(deps, channel.channelId, { pageSize: 2 });
      expect(again.kinds.reduce((n, kind) => n + kind.inserted, 0)).toBe(0);
    });
    expect((await stored("SM-ID3")).map((r) => r.ordinal)).toEqual([0, 1, 2]);
  });

  it("keeps its fingerprint equal to the migration's, which computed it for the events stored before", async () => {
    const dir = readdirSync(MIGRATIONS_DIR).find((name) => name.endsWith("_inbound_never_skips"));
    const sql = readFileSync(join(MIGRATIONS_DIR, dir as string, "migration.sql"), "utf8");
    const expression = /SET "fingerprint" = (.+)\n/.exec(sql)?.[1];
    expect(expression).toBeDefined();
    const { rows } = await fx.deps.pool.query(
      `SELECT count(*)::int AS checked, count(*) FILTER (WHERE fingerprint <> ${expression})::int AS differ
         FROM email_event WHERE type IN ('opened', 'clicked')`,
    );
    expect(rows[0].checked).toBeGreaterThan(10);
    expect(rows[0].differ).toBe(0);
  });
});
