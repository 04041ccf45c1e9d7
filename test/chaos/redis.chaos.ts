import { createExecution } from "@luxrelay/outbound";
import { startRedisServer, type TestRedisServer } from "@luxrelay/testkit";
import { describe, expect, it } from "vitest";
import { makeContacts, writeCsv } from "../helpers/audience.ts";
import {
  createOfferFixture,
  type Stack,
  startStack,
  waitForBatches,
  waitForExecution,
} from "../helpers/stack.ts";
import { spawnWorker, type WorkerChild } from "../helpers/worker-process.ts";
import { expectExactlyOnce, recordFigures } from "./helpers.ts";

// Chaos: Redis loses what it held, mid-execution. Redis is the test's own (never the
// machine's): crashed and restarted with AOF on (what it wrote in the last second is gone),
// with AOF off (everything is gone), and every key of the queue prefix deleted while it runs.
// PostgreSQL is the truth: the reconciler (housekeeping, every RECONCILE_INTERVAL_MS) re-adds
// what is missing, and each recipient is sent once.

const RECONCILE_INTERVAL_MS = 5_000;

async function run(
  name: string,
  options: { appendonly: boolean; recipients: number; latencyMs: number },
  disrupt: (redis: TestRedisServer, stack: Stack) => Promise<void>,
): Promise<void> {
  const redis = await startRedisServer({ appendonly: options.appendonly });
  const stack = await startStack({
    simSeed: 81,
    keepMergedMessages: 0,
    redisUrl: redis.url,
    sim: { reportLagMs: 500 },
    env: {
      WORKER_QUEUES: "send,housekeeping",
      RECONCILE_INTERVAL_MS: String(RECONCILE_INTERVAL_MS),
      LUXSCI_TIMEOUT_MS: "2000",
      LUXSCI_REPORT_LAG_MS: "1500",
      WORKER_CONCURRENCY_SEND: "4",
      LOG_LEVEL: "error",
    },
  });
  let worker: WorkerChild | undefined;
  try {
    stack.sim.setFault("POST */email/send", { latencyMs: options.latencyMs });
    const fixture = await createOfferFixture(stack, {
      variants: [{ key: "a", subject: "Hi {{ first_name }}", html: "<p>x</p>", text: "x" }],
      channel: { batchSize: 250 },
    });
    const started = Date.now();
    worker = spawnWorker(stack.env);
    const execution = await createExecution(stack.deps, {
      offerId: fixture.offerId,
      channelId: fixture.channelId,
      audience: {
        type: "file",
        path: writeCsv(makeContacts(options.recipients, ["a"])),
        format: "csv",
      },
    });
    // Disrupt once some batches are sent and most are not.
    const batches = options.recipients / 250;
    await waitForBatches(stack, execution.id, "sent", batches * 0.2);
    const disruptedAt = Date.now();
    await disrupt(redis, stack);
    const sentAtDisruption = await stack.deps.prisma.batch.count({
      where: { executionId: execution.id, state: "sent" },
    });
    expect(sentAtDisruption).toBeLessThan(batches);
    expect(await waitForExecution(stack, execution.id, 300_000)).toBe("completed");
    const recoveredInMs = Date.now() - disruptedAt;
    const figures = await expectExactlyOnce(stack, execution.id, {
      recipients: options.recipients,
    });
    recordFigures({
      scenario: name,
      injected: `${Math.round((sentAtDisruption / batches) * 100)}% of batches sent when disrupted; reconciler every ${RECONCILE_INTERVAL_MS / 1000} s; completed ${Math.round(recoveredInMs / 100) / 10} s after`,
      recipients: options.recipients,
      seconds: Math.round((Date.now() - started) / 1000),
      ...figures,
    });
    if (name.startsWith("every Redis key")) {
      // The reconciler notices within one period; the rest is sending what was left.
      expect(recoveredInMs).toBeLessThan(2 * RECONCILE_INTERVAL_MS + 10_000);
    }
  } finally {
    if (worker) {
      worker.child.kill("SIGTERM");
      await worker.exited;
    }
    await stack.close();
    await redis.close();
  }
}

describe("chaos: Redis loses its keys", () => {
  it("Redis with AOF on crashes (SIGKILL) and restarts mid-execution: each recipient once", async () => {
    await run(
      "Redis (AOF everysec) SIGKILLed and restarted mid-send",
      { appendonly: true, recipients: 20_000, latencyMs: 400 },
      (redis) => redis.restart({ crash: true }),
    );
  });

  it("Redis without persistence restarts mid-execution (every job lost): the reconciler rebuilds it from PostgreSQL", async () => {
    await run(
      "Redis (no persistence) restarted mid-send: every job lost",
      { appendonly: false, recipients: 20_000, latencyMs: 400 },
      (redis) => redis.restart({ crash: true }),
    );
  });

  it("every Redis key of the queue prefix deleted in the middle of a 50k execution: completed within two reconciler periods", async () => {
    await run(
      "every Redis key of the prefix deleted mid-send",
      { appendonly: true, recipients: 50_000, latencyMs: 150 },
      async (_redis, stack) => {
        expect(await stack.queues.deleteKeys()).toBeGreaterThan(0);
      },
    );
  });
});
