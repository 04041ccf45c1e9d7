import { type Simulator, startSimulator } from "@luxrelay/luxsci-sim";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runChannelSync } from "../src/sync/run-sync.ts";
import {
  ACCOUNT,
  type ChannelFixture,
  createChannel,
  type SyncFixture,
  simulatorRows,
  startSyncFixture,
  storedRows,
} from "./fixture.ts";

// Watermarks never skip rows (API mode, the simulator over HTTP): a report whose rows show a
// minute after their date, some dated an hour ahead of LuxSci's clock and none in date order,
// and rows that show up long after their date, which only a re-scan reads.

const LAG_MS = 60_000;

let fx: SyncFixture;
let sim: Simulator;

beforeAll(async () => {
  fx = await startSyncFixture({ LUXSCI_REPORT_LAG_MS: String(LAG_MS) });
  sim = await startSimulator({
    seed: 11,
    accounts: [ACCOUNT],
    eventDelayScale: 0.001,
    eventRates: { open: 0.6, click: 0.6 },
    reportLagMs: LAG_MS,
  });
});

afterAll(async () => {
  await sim?.close();
  await fx?.close();
});

async function sync(channelId: string) {
  const run = await runChannelSync(fx.deps, channelId);
  if (run.mode !== "api") throw new Error(`expected an API sync, got ${run.mode}`);
  return run.result;
}

async function watermarks(channelId: string) {
  const rows = await fx.deps.prisma.syncWatermark.findMany({ where: { channelId } });
  return Object.fromEntries(rows.map((row) => [row.reportType, row]));
}

/** Sends `count` messages on the channel now (or at `sentAtMs`), straight into LuxSci's ledger. */
function send(channel: ChannelFixture, batch: string, count: number, sentAtMs?: number) {
  sim.seedLedger({ user: ACCOUNT.user, count, chidPrefix: channel.chid(batch), sentAtMs });
}

describe("watermarks", () => {
  it("never pass LuxSci's time less the report lag: rows dated ahead of its clock skip nothing", async () => {
    sim.setReportDisorder({ futureEventRate: 0.3, futureEventMs: 3_600_000, shuffleReports: true });
    try {
      const channel = await createChannel(fx, sim.url);
      send(channel, "a", 300);
      sim.settleEvents();
      await sync(channel.channelId);
      // Some rows are dated an hour ahead; the watermark stays at LuxSci's time less the lag.
      const luxsciNow = await simNowMs();
      for (const mark of Object.values(await watermarks(channel.channelId))) {
        expect(mark.afterDate.getTime()).toBeLessThanOrEqual(luxsciNow - LAG_MS);
      }
      // Minutes later (less than the hour those rows are ahead), more messages and events.
      sim.advanceClock(120);
      send(channel, "b", 300);
      sim.settleEvents();
      await sync(channel.channelId);
      expect(await storedRows(fx, channel.channelId)).toEqual(
        await simulatorRows(sim, channel.channelId),
      );
    } finally {
      sim.setReportDisorder({ futureEventRate: 0, shuffleReports: false });
    }
  });

  it("a re-scan every SYNC_RESCAN_INTERVAL_SECONDS reads rows that showed up later than the overlap", async () => {
    const channel = await createChannel(fx, sim.url);
    send(channel, "a", 100);
    sim.settleEvents();
    const first = await sync(channel.channelId);
    // A channel's first read goes back 30 days: it counts as a re-scan.
    expect(first.kinds.every((kind) => kind.rescan)).toBe(true);
    // Rows dated two hours back that LuxSci shows only now (a delayed report).
    send(channel, "late", 50, (await simNowMs()) - 2 * 3_600_000);
    const second = await sync(channel.channelId);
    // (A report without any row yet has no watermark: each read is a first one.)
    expect(second.kinds.filter((kind) => kind.rescan).map((kind) => kind.kind)).not.toContain(
      "sent",
    );
    expect((await storedRows(fx, channel.channelId)).sent).toBe(100);
    // SYNC_RESCAN_INTERVAL_SECONDS later (PostgreSQL's clock): the next read is a re-scan.
    await fx.deps.pool.query(
      "UPDATE sync_watermark SET rescanned_at = now() - interval '7 hours' WHERE channel_id = $1",
      [channel.channelId],
    );
    const third = await sync(channel.channelId);
    expect(third.kinds.every((kind) => kind.rescan)).toBe(true);
    expect(await storedRows(fx, channel.channelId)).toEqual(
      await simulatorRows(sim, channel.channelId),
    );
    expect((await storedRows(fx, channel.channelId)).sent).toBe(150);
    const marks = await watermarks(channel.channelId);
    for (const mark of Object.values(marks)) {
      expect(Date.now() - (mark.rescannedAt?.getTime() ?? 0)).toBeLessThan(60_000);
    }
    // Re-reading adds nothing.
    const again = await sync(channel.channelId);
    expect(again.kinds.reduce((n, kind) => n + kind.inserted, 0)).toBe(0);
  });
});

/** The simulator's clock: LuxSci's time, which the Date header of its replies tells. */
async function simNowMs(): Promise<number> {
  const reply = await fetch(`${sim.origin}/__sim/clock`);
  return ((await reply.json()) as { nowMs: number }).nowMs;
}
