import { QUEUE_NAMES } from "@luxrelay/jobs";
import { createExecution } from "@luxrelay/outbound";
import { startPostgresCluster, type TestPostgresCluster } from "@luxrelay/testkit";
import { Queue } from "bullmq";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeContacts, writeCsv } from "../helpers/audience.ts";
import {
  createOfferFixture,
  type Stack,
  startStack,
  waitForBatches,
  waitForExecution,
} from "../helpers/stack.ts";
import { simulatorReportTotals, storedTotals } from "../helpers/sync.ts";
import { spawnWorker, type WorkerChild } from "../helpers/worker-process.ts";
import { expectExactlyOnce, ownDatabase, recordFigures, sleep } from "./helpers.ts";

// Chaos: PostgreSQL, the truth, restarts under load: a cluster of the test's own (initdb +
// its own port and data directory, never the machine's), stopped in `immediate` mode (a crash:
// no checkpoint, recovery at start) in the middle of a send and of an import. Workers see
// their statements fail and connections drop; jobs retry; nothing is lost or sent twice, and
// the import ends with exactly the simulator's events.

let cluster: TestPostgresCluster;
let stack: Stack;

beforeAll(async () => {
  cluster = await startPostgresCluster();
  stack = await startStack({
    simSeed: 91,
    keepMergedMessages: 0,
    database: await ownDatabase(cluster, "chaos"),
    sim: { reportLagMs: 500 },
    env: {
      WORKER_QUEUES: "send,reports,housekeeping",
      RECONCILE_INTERVAL_MS: "5000",
      LUXSCI_TIMEOUT_MS: "2000",
      LUXSCI_REPORT_LAG_MS: "1500",
      WORKER_CONCURRENCY_SEND: "4",
      DATABASE_CONNECT_TIMEOUT_MS: "2000",
      LOG_LEVEL: "error",
    },
  });
});

afterAll(async () => {
  await stack?.close();
  await cluster?.close();
});

/** Restarts PostgreSQL as a crash would, down for `downMs`. */
async function crashPostgres(downMs: number): Promise<void> {
  await cluster.stop({ mode: "immediate" });
  await sleep(downMs);
  await cluster.start();
}

describe("chaos: PostgreSQL restarts", () => {
  let executionId = 0;
  let channelId = "";

  it("PostgreSQL crashes and restarts mid-send: each recipient once", async () => {
    stack.sim.setFault("POST */email/send", { latencyMs: 400 });
    const fixture = await createOfferFixture(stack, {
      variants: [{ key: "a", subject: "Hi {{ first_name }}", html: "<p>x</p>", text: "x" }],
      channel: { batchSize: 250, syncEnabled: false },
    });
    channelId = fixture.channelId;
    const recipients = 20_000;
    const started = Date.now();
    const worker = spawnWorker(stack.env);
    try {
      const execution = await createExecution(stack.deps, {
        offerId: fixture.offerId,
        channelId: fixture.channelId,
        audience: { type: "file", path: writeCsv(makeContacts(recipients, ["a"])), format: "csv" },
      });
      executionId = execution.id;
      await waitForBatches(stack, executionId, "sent", 16);
      await crashPostgres(3_000);
      expect(await waitForExecution(stack, executionId, 300_000)).toBe("completed");
      const figures = await expectExactlyOnce(stack, executionId, { recipients });
      recordFigures({
        scenario: "PostgreSQL crashed (immediate stop) and restarted mid-send",
        injected: "down 3 s with 20% of batches sent; statements and connections fail",
        recipients,
        seconds: Math.round((Date.now() - started) / 1000),
        ...figures,
      });
    } finally {
      worker.child.kill("SIGTERM");
      await worker.exited;
      stack.sim.clearFaults();
    }
  }, 600_000);

  it("PostgreSQL crashes and restarts mid-import: the sync ends with exactly the simulator's events", async () => {
    expect(executionId).toBeGreaterThan(0);
    stack.sim.settleEvents();
    const expected = await simulatorReportTotals(stack, channelId);
    const started = Date.now();
    const worker: WorkerChild = spawnWorker(stack.env);
    const queue = new Queue(QUEUE_NAMES.reports, {
      connection: stack.queues.connection,
      prefix: stack.queues.prefix,
    });
    try {
      await queue.add(
        "sync",
        { channelId, reason: "manual" },
        { jobId: "sync-chaos-pg", attempts: 10, backoff: { type: "exponential", delay: 500 } },
      );
      const total = Object.values(expected).reduce((a, b) => a + b, 0);
      for (let i = 0; i < 3000; i++) {
        const stored = Object.values(await storedTotals(stack, channelId)).reduce(
          (a, b) => a + b,
          0,
        );
        if (stored > 0) break;
        await sleep(10);
      }
      const partial = Object.values(await storedTotals(stack, channelId)).reduce(
        (a, b) => a + b,
        0,
      );
      await crashPostgres(2_000);
      expect(partial).toBeLessThan(total);
      for (let i = 0; i < 1200; i++) {
        const job = await queue.getJob("sync-chaos-pg");
        const state = await job?.getState();
        if (state === "completed" || state === "failed") break;
        await sleep(100);
      }
      const job = await queue.getJob("sync-chaos-pg");
      // On failure, what the worker said (a crash shows here, not in the job).
      if ((await job?.getState()) !== "completed") console.log(worker.output().slice(-6000));
      expect(await job?.getState(), job?.failedReason).toBe("completed");
      const stored = await storedTotals(stack, channelId);
      expect(stored).toEqual(expected);
      recordFigures({
        scenario: "PostgreSQL crashed and restarted mid-import (API sync)",
        injected: `down 2 s with ${partial} of ${total} events stored`,
        recipients: 20_000,
        duplicates: 0,
        lost: total - Object.values(stored).reduce((a, b) => a + b, 0),
        status: "sync completed",
        retriedBatches: 0,
        seconds: Math.round((Date.now() - started) / 1000),
        notes: `events stored = simulator's: ${JSON.stringify(stored)}`,
      });
    } finally {
      worker.child.kill("SIGTERM");
      await worker.exited;
      await queue.close();
    }
  }, 600_000);
});
