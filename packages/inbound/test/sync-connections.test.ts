import { type Simulator, startSimulator } from "@luxrelay/luxsci-sim";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runChannelSync } from "../src/sync/run-sync.ts";
import { ACCOUNT, createChannel, type SyncFixture, startSyncFixture } from "./fixture.ts";

// No pooled connection or open transaction waits on LuxSci: a report page that takes seconds
// to come (LuxSci slow, or backing off) is fetched before its import takes a connection.

const PAGE_LATENCY_MS = 6_000;

let fx: SyncFixture;
let sim: Simulator;

beforeAll(async () => {
  // A client timeout above the pages' latency: they are slow, not lost.
  fx = await startSyncFixture({ LUXSCI_TIMEOUT_MS: "20000" });
  sim = await startSimulator({ seed: 12, accounts: [ACCOUNT], eventDelayScale: 0.001 });
});

afterAll(async () => {
  await sim?.close();
  await fx?.close();
});

describe("connections during a sync", () => {
  it("no transaction stays open while a report page is fetched", async () => {
    const channel = await createChannel(fx, sim.url);
    // 60,000 sent rows: two pages of the sent report (50,000 a page).
    sim.seedLedger({ user: ACCOUNT.user, count: 60_000, chidPrefix: channel.chid("c") });
    sim.setFault("GET */report/email/smtp/sent", { latencyMs: PAGE_LATENCY_MS });
    const watcher = new pg.Client({ connectionString: fx.db.url });
    await watcher.connect();
    let longest = 0;
    let watching = true;
    const watch = (async () => {
      while (watching) {
        const { rows } = await watcher.query<{ seconds: number | null }>(
          `SELECT extract(epoch FROM max(now() - xact_start))::float8 AS seconds
           FROM pg_stat_activity
           WHERE datname = current_database() AND pid <> pg_backend_pid() AND state <> 'idle'`,
        );
        longest = Math.max(longest, rows[0]?.seconds ?? 0);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    })();
    try {
      const run = await runChannelSync(fx.deps, channel.channelId);
      expect(run.mode).toBe("api");
      const stored = await fx.deps.pool.query<{ n: string }>(
        "SELECT count(*) AS n FROM email_event WHERE channel_id = $1 AND type = 'sent'",
        [channel.channelId],
      );
      expect(Number(stored.rows[0]?.n)).toBe(60_000);
    } finally {
      watching = false;
      await watch;
      await watcher.end();
      sim.clearFaults();
    }
    // An import takes a second or two here, even with the other test files running; a
    // transaction spanning a page's fetch would last at least PAGE_LATENCY_MS.
    expect(longest).toBeLessThan(PAGE_LATENCY_MS / 1000 - 2);
  }, 60_000);
});
