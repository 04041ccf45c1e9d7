import { QUEUE_NAMES } from "@luxrelay/jobs";
import { createExecution } from "@luxrelay/outbound";
import { startWorkers, type WorkerProcess } from "@luxrelay/worker";
import { Queue } from "bullmq";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeContacts, writeCsv } from "./helpers/audience.ts";
import { createOfferFixture, type Stack, startStack, waitForExecution } from "./helpers/stack.ts";
import { simulatorReportTotals, storedTotals } from "./helpers/sync.ts";
import { spawnWorker } from "./helpers/worker-process.ts";

// A sync killed (SIGKILL) in the middle of importing ends, once another worker has taken the
// run over, with exactly the rows of an uninterrupted sync: pages are stored in transactions
// and watermarks move only after, so the restart re-reads and the unique key drops repeats.

let stack: Stack;
let sender: WorkerProcess;

beforeAll(async () => {
  // LuxSci's reports show a row 700 ms after its date (they are built asynchronously).
  stack = await startStack({
    simSeed: 33,
    sim: { reportLagMs: 700 },
    env: { WORKER_QUEUES: "send", LUXSCI_REPORT_LAG_MS: "1500" },
  });
  sender = await startWorkers(stack.config, stack.logger);
});

afterAll(async () => {
  await sender?.stop();
  await stack?.close();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("inbound sync under SIGKILL", () => {
  it("a sync killed mid-import and restarted ends with the same rows", async () => {
    const fixture = await createOfferFixture(stack, {
      variants: [{ key: "a", subject: "Hi", html: "<p>{{ first_name }}</p>", text: "x" }],
    });
    const execution = await createExecution(stack.deps, {
      offerId: fixture.offerId,
      channelId: fixture.channelId,
      audience: { type: "file", path: writeCsv(makeContacts(20_000, ["a"])), format: "csv" },
    });
    expect(await waitForExecution(stack, execution.id)).toBe("completed");
    stack.sim.settleEvents();
    const expected = await simulatorReportTotals(stack, fixture.channelId);

    const env = { ...stack.env, WORKER_QUEUES: "reports" };
    const first = spawnWorker(env);
    const queue = new Queue(QUEUE_NAMES.reports, {
      connection: stack.queues.connection,
      prefix: stack.queues.prefix,
    });
    await queue.add(
      "sync",
      { channelId: fixture.channelId, reason: "manual" },
      { jobId: "sync-chaos" },
    );
    // Kill once some events are stored and before all are.
    const total = Object.values(expected).reduce((a, b) => a + b, 0);
    for (let i = 0; i < 600; i++) {
      const stored = Object.values(await storedTotals(stack, fixture.channelId)).reduce(
        (a, b) => a + b,
        0,
      );
      if (stored > 0) break;
      await sleep(25);
    }
    first.child.kill("SIGKILL");
    await first.exited;
    const partial = Object.values(await storedTotals(stack, fixture.channelId)).reduce(
      (a, b) => a + b,
      0,
    );
    expect(partial).toBeLessThan(total);

    const second = spawnWorker(env);
    try {
      for (let i = 0; i < 600; i++) {
        const job = await queue.getJob("sync-chaos");
        if (job && (await job.getState()) === "completed") break;
        await sleep(100);
      }
      expect(await (await queue.getJob("sync-chaos"))?.getState()).toBe("completed");
    } finally {
      second.child.kill("SIGTERM");
      await second.exited;
      await queue.close();
    }
    expect(await storedTotals(stack, fixture.channelId)).toEqual(expected);
  }, 120_000);
});
