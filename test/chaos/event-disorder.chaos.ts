import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { JOB_NAMES, jobId, QUEUE_NAMES } from "@luxrelay/jobs";
import { createExecution } from "@luxrelay/outbound";
import { startSshd, type TestSshd } from "@luxrelay/testkit";
import { Queue } from "bullmq";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeContacts, writeCsv } from "../helpers/audience.ts";
import {
  createOfferFixture,
  exportModeChannel,
  type Stack,
  startStack,
  waitForExecution,
} from "../helpers/stack.ts";
import {
  compareEventRows,
  type EventRowComparison,
  simulatorReportTotals,
  storedTotals,
} from "../helpers/sync.ts";
import { spawnWorker, type WorkerChild } from "../helpers/worker-process.ts";
import { recordFigures, sleep } from "./helpers.ts";

// Chaos: LuxSci's reports out of date order and with rows dated in the future (packages/inbound
// README, "Watermarks: never skip a row"). The simulator shows a row a minute after its date
// (the report lag, equal to LUXSCI_REPORT_LAG_MS: the tightest the promise allows), dates a
// tenth of delivery, open and click rows an hour after they show, and serves every report in
// a shuffled order; its clock runs hours behind the host's. Events come at their real pace
// (eventDelayScale 1: deliveries within a minute of the send, opens and clicks over half an
// hour), and the test walks LuxSci's clock on in steps, syncing at each, so every sync meets
// rows that showed since the last one, in the middle of its report. SYNC_OVERLAP_SECONDS is 0:
// nothing but the watermark's cap (LuxSci's time less the lag) keeps a read from starting past
// a row it has yet to see.
//
// Checked in API mode and in export mode (a real sshd): while the syncs run (sampled every
// 100 ms), no watermark is past LuxSci's time (its clock from /__sim/clock) less the lag; at
// the end the stored events equal the simulator's report rows, row by row (future-dated ones
// included, compared while still ahead of LuxSci's clock), and further syncs add nothing.

const RECIPIENTS = 15_000;
const REPORT_LAG_MS = 60_000;
const FUTURE_EVENT_RATE = 0.1;
const FUTURE_EVENT_MS = 3_600_000;
const LUXSCI_CLOCK_BEHIND_S = 4 * 3600;
const STEP_SECONDS = 150;
/** 16 steps of 150 s: past the simulator's last event (2,160 s after its send) and the lag. */
const STEPS = 16;

const stateDir = mkdtempSync(join(tmpdir(), "lr-chaos-disorder-state-"));
let stack: Stack;
let worker: WorkerChild;
let sshd: TestSshd;
let reports: Queue;

beforeAll(async () => {
  stack = await startStack({
    simSeed: 113,
    keepMergedMessages: 0,
    sim: {
      eventDelayScale: 1,
      maxJobs: 5,
      exportStepMs: { submittedMs: 50, preparingMs: 50, runningMs: 100 },
    },
    env: {
      WORKER_QUEUES: "send,reports",
      STATE_DIR: stateDir,
      LUXSCI_REPORT_LAG_MS: String(REPORT_LAG_MS),
      SYNC_OVERLAP_SECONDS: "0",
      EXPORT_POLL_MS: "300",
      LUXSCI_MAX_EXPORT_JOBS: "5",
      LUXSCI_MAX_JOBS_WAIT_MS: "300",
      WORKER_CONCURRENCY_REPORTS: "5",
      LOG_LEVEL: "warn",
    },
  });
  // LuxSci's clock hours behind the host's (and still behind after both walks and settles):
  // a watermark capped by a host clock instead of LuxSci's would be hours past its cap.
  stack.sim.advanceClock(-LUXSCI_CLOCK_BEHIND_S);
  stack.sim.setReportLag(REPORT_LAG_MS);
  stack.sim.setReportDisorder({
    futureEventRate: FUTURE_EVENT_RATE,
    futureEventMs: FUTURE_EVENT_MS,
    shuffleReports: true,
  });
  reports = new Queue(QUEUE_NAMES.reports, {
    connection: stack.queues.connection,
    prefix: stack.queues.prefix,
  });
  worker = spawnWorker(stack.env);
  sshd = await startSshd();
}, 120_000);

afterAll(async () => {
  if (worker) {
    worker.child.kill("SIGTERM");
    await worker.exited;
  }
  await reports?.close();
  await sshd?.stop();
  await stack?.close();
});

/** LuxSci's time now: the simulator's clock (real time plus its offset). */
async function luxsciNow(): Promise<number> {
  const response = await fetch(`${stack.sim.origin}/__sim/clock`);
  const clock = (await response.json()) as { nowMs: number };
  return clock.nowMs;
}

interface WatermarkSample {
  samples: number;
  /** Watermarks seen past LuxSci's time less the lag: [report, after_date, limit]. */
  violations: [string, string, string][];
  /** The least headroom seen (limit - after_date, ms): how close the cap was met. */
  minHeadroomMs: number;
}

/**
 * Samples the channel's watermarks every 100 ms until stopped. Each sample reads the
 * watermarks, then LuxSci's clock: a watermark read was written before that time, so it must
 * be at or before it less the lag.
 */
function sampleWatermarks(channelId: string) {
  const sample: WatermarkSample = {
    samples: 0,
    violations: [],
    minHeadroomMs: Number.POSITIVE_INFINITY,
  };
  let stopped = false;
  const takeOne = async () => {
    const { rows } = await stack.deps.pool.query<{ report_type: string; after_date: Date }>(
      "SELECT report_type, after_date FROM sync_watermark WHERE channel_id = $1",
      [channelId],
    );
    const now = await luxsciNow();
    const limit = now - REPORT_LAG_MS;
    for (const row of rows) {
      const headroom = limit - row.after_date.getTime();
      sample.minHeadroomMs = Math.min(sample.minHeadroomMs, headroom);
      if (headroom < 0) {
        sample.violations.push([
          row.report_type,
          row.after_date.toISOString(),
          new Date(limit).toISOString(),
        ]);
      }
    }
    sample.samples++;
  };
  const loop = (async () => {
    while (!stopped) {
      await takeOne();
      await sleep(100);
    }
  })();
  return {
    takeOne,
    async stop(): Promise<WatermarkSample> {
      stopped = true;
      await loop;
      await takeOne();
      return sample;
    },
  };
}

/** A channel with an execution of RECIPIENTS sent at LuxSci's present (`start`: addresses). */
async function sendExecution(channel: Record<string, unknown>, start: number): Promise<string> {
  const fixture = await createOfferFixture(stack, {
    variants: [{ key: "a", subject: "Hi {{ first_name }}", html: "<p>{{ city }}</p>", text: "x" }],
    channel: { syncEnabled: false, ...channel },
  });
  const execution = await createExecution(stack.deps, {
    offerId: fixture.offerId,
    channelId: fixture.channelId,
    audience: {
      type: "file",
      path: writeCsv(makeContacts(RECIPIENTS, ["a"], start)),
      format: "csv",
    },
  });
  expect(await waitForExecution(stack, execution.id, 120_000)).toBe("completed");
  return fixture.channelId;
}

/** One sync run of the channel through the reports queue, by the worker process. */
async function runSync(channelId: string, name: string) {
  const id = jobId("sync", name);
  await reports.add(JOB_NAMES.sync, { channelId, reason: "manual" }, { jobId: id });
  const deadline = Date.now() + 120_000;
  for (;;) {
    const job = await reports.getJob(id);
    const state = await job?.getState();
    // Read again: the job was fetched before the state, maybe before it completed.
    if (state === "completed") return (await reports.getJob(id))?.returnvalue as SyncResult;
    if (state === "failed" || Date.now() > deadline) {
      console.log(worker.output().slice(-6000));
      throw new Error(`sync ${id} ${state}: ${job?.failedReason}`);
    }
    await sleep(50);
  }
}

type SyncResult =
  | { mode: "api"; result: { kinds: { kind: string; inserted: number }[] } }
  | { mode: "export"; exportJobIds: number[] }
  | { mode: "skipped"; reason: string };

/** API mode: a sync; returns the events it inserted. */
async function syncByApi(channelId: string, name: string): Promise<number> {
  const run = await runSync(channelId, name);
  if (run.mode !== "api") throw new Error(`expected an API sync, got ${JSON.stringify(run)}`);
  return run.result.kinds.reduce((n, kind) => n + kind.inserted, 0);
}

/** Export mode: a sync and its export set, imported; returns the events it inserted. */
async function syncByExport(channelId: string, name: string): Promise<number> {
  const run = await runSync(channelId, name);
  if (run.mode !== "export") throw new Error(`expected an export set, got ${JSON.stringify(run)}`);
  const deadline = Date.now() + 90_000;
  for (;;) {
    const jobs = await stack.deps.prisma.exportJob.findMany({
      where: { id: { in: run.exportJobIds } },
    });
    if (jobs.every((job) => job.state === "imported")) {
      return jobs.reduce((n, job) => n + (job.importedRows ?? 0), 0);
    }
    const failed = jobs.filter((job) => job.state === "failed");
    if (failed.length > 0 || Date.now() > deadline) {
      console.log(worker.output().slice(-6000));
      throw new Error(
        `export set ${name} not imported: ${JSON.stringify(jobs.map((j) => [j.reportType, j.state, j.error]))}`,
      );
    }
    await sleep(100);
  }
}

/**
 * Walks LuxSci's clock on in STEPS steps, a sync before each and one after the last (past
 * every event and its lag), then syncs twice more; compares every row while the future-dated
 * ones are still ahead of LuxSci's clock; then moves the clock past every event (settle) to
 * show that none was still hidden, and syncs once more. Watermarks are sampled throughout.
 */
async function walkTheClock(
  channelId: string,
  mode: "api" | "export",
  sync: (channelId: string, name: string) => Promise<number>,
) {
  const started = Date.now();
  const sampler = sampleWatermarks(channelId);
  const insertedPerSync: number[] = [];
  const extra: number[] = [];
  let watermarks: WatermarkSample;
  let expected: Awaited<ReturnType<typeof simulatorReportTotals>>;
  let compared: EventRowComparison;
  let settled: Awaited<ReturnType<typeof simulatorReportTotals>>;
  try {
    for (let step = 0; step < STEPS; step++) {
      insertedPerSync.push(await sync(channelId, `${mode}-${step}`));
      await sampler.takeOne();
      stack.sim.advanceClock(STEP_SECONDS);
    }
    insertedPerSync.push(await sync(channelId, `${mode}-last`));
    extra.push(await sync(channelId, `${mode}-again-1`));
    extra.push(await sync(channelId, `${mode}-again-2`));
    const now = await luxsciNow();
    expected = await simulatorReportTotals(stack, channelId);
    compared = await compareEventRows(stack, channelId, { datedAfter: new Date(now) });
    stack.sim.settleEvents();
    settled = await simulatorReportTotals(stack, channelId);
    extra.push(await sync(channelId, `${mode}-settled`));
  } finally {
    watermarks = await sampler.stop();
  }
  const stored = await storedTotals(stack, channelId);
  const watermarkRows = await stack.deps.prisma.syncWatermark.findMany({ where: { channelId } });

  // No watermark was ever past LuxSci's time less the lag, and the cap was met: a report with
  // future rows had its watermark held at it (those rows would have pushed it an hour ahead).
  expect(
    watermarks.violations.length,
    `watermarks past LuxSci's time less the lag, e.g. ${JSON.stringify(watermarks.violations.slice(0, 3))}`,
  ).toBe(0);
  expect(watermarks.samples).toBeGreaterThan(STEPS);
  expect(watermarkRows.map((row) => row.reportType).sort()).toEqual([
    "clicks",
    "delivery",
    "fbl",
    "opens",
    "sent",
  ]);
  expect(watermarks.minHeadroomMs).toBeLessThan(30_000);
  // Events kept coming: most syncs of the walk stored new ones.
  expect(insertedPerSync.filter((n) => n > 0).length).toBeGreaterThanOrEqual(STEPS / 2);
  // Every row once, the future-dated ones (still ahead of LuxSci's clock) included.
  expect(expected.sent).toBe(RECIPIENTS);
  expect(compared).toMatchObject({ lost: 0, duplicates: 0 });
  expect(compared.storedEvents).toBe(compared.simulatorRows);
  expect(compared.simulatorDatedAfter).toBeGreaterThan(RECIPIENTS * FUTURE_EVENT_RATE * 0.5);
  expect(compared.storedDatedAfter).toBe(compared.simulatorDatedAfter);
  // None was still hidden when compared; the syncs after the walk added nothing.
  expect(settled).toEqual(expected);
  expect(extra).toEqual([0, 0, 0]);
  expect(stored).toEqual(expected);

  recordFigures({
    scenario: `events out of date order and future-dated, ${mode === "api" ? "API" : "export"} sync while LuxSci's clock walks on`,
    injected: `report lag ${REPORT_LAG_MS / 1000} s (= LUXSCI_REPORT_LAG_MS), ${FUTURE_EVENT_RATE * 100}% of delivery/open/click rows dated ${FUTURE_EVENT_MS / 3_600_000} h after they show, shuffled reports, overlap 0; ${STEPS + 1} syncs ${STEP_SECONDS / 60} min apart, 3 more`,
    recipients: RECIPIENTS,
    duplicates: compared.duplicates,
    lost: compared.lost,
    status: "sync completed",
    retriedBatches: 0,
    seconds: Math.round((Date.now() - started) / 1000),
    notes: `${compared.storedEvents} events stored = ${compared.simulatorRows} simulator rows, row by row, ${compared.storedDatedAfter} of them dated ahead of LuxSci's clock; inserted per sync ${insertedPerSync.join("/")}, then ${extra.join("/")}; ${watermarks.samples} watermark samples, none past LuxSci's time less the lag (least headroom ${(watermarks.minHeadroomMs / 1000).toFixed(1)} s)`,
  });
}

describe("chaos: events out of order and in the future", () => {
  it("API mode: every row once, no watermark past LuxSci's time less the lag", async () => {
    const channelId = await sendExecution({ syncMode: "api" }, 1_000_000);
    await walkTheClock(channelId, "api", syncByApi);
  }, 600_000);

  it("export mode: every row once, no watermark past LuxSci's time less the lag", async () => {
    const channelId = await sendExecution(exportModeChannel(stack, sshd), 2_000_000);
    await walkTheClock(channelId, "export", syncByExport);
  }, 600_000);
});
