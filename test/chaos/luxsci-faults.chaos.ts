import { createExecution, replayExecution } from "@luxrelay/outbound";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
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

// Chaos: LuxSci misbehaving. One send call in five meets a fault (429 with Retry-After, 500,
// 502, 503, 504, a reset before handling, a hang past our timeout, a garbled reply, a reply
// lost after the messages were accepted, an accept later than our timeout), other calls
// meet the retryable ones, and the sent report lags; then an outage long enough to exhaust
// every retry. Batches that fail are replayed until the execution completes: no recipient
// twice, none lost.

const SEND_FAULTS = {
  rate429: 0.03,
  retryAfterSeconds: 1,
  rate500: 0.01,
  rate502: 0.02,
  rate503: 0.02,
  rate504: 0.02,
  resetRate: 0.02,
  hangRate: 0.02,
  malformedRate: 0.02,
  resetAfterRate: 0.03,
  acceptLateRate: 0.01,
  acceptLateMs: 3_000,
};
const OTHER_FAULTS = {
  rate429: 0.02,
  rate503: 0.03,
  rate504: 0.02,
  resetRate: 0.02,
  hangRate: 0.01,
};

let stack: Stack;
let worker: WorkerChild;

beforeAll(async () => {
  stack = await startStack({
    simSeed: 101,
    keepMergedMessages: 0,
    sim: { reportLagMs: 1_000 },
    env: {
      LUXSCI_TIMEOUT_MS: "2000",
      LUXSCI_REPORT_LAG_MS: "2000",
      LUXSCI_RETRY_BASE_MS: "200",
      WORKER_CONCURRENCY_SEND: "6",
      LOG_LEVEL: "error",
    },
  });
  // LuxSci's clock 10 minutes ahead of ours.
  stack.sim.advanceClock(600);
  worker = spawnWorker(stack.env);
});

afterAll(async () => {
  worker?.child.kill("SIGTERM");
  await worker?.exited;
  await stack?.close();
});

/** Replays until completed (at most `rounds` times); returns the replays made. */
async function replayUntilCompleted(executionId: number, rounds: number): Promise<number> {
  let replays = 0;
  for (;;) {
    const status = await waitForExecution(stack, executionId, 300_000);
    if (status === "completed" || replays >= rounds) return replays;
    expect(["partially_failed", "failed"]).toContain(status);
    await replayExecution(stack.deps, executionId);
    replays += 1;
  }
}

describe("chaos: LuxSci faults", () => {
  it("a fault on one send call in five, retryable faults elsewhere, a lagging report: replays complete it, each recipient once", async () => {
    const recipients = 20_000;
    stack.sim.setFault("POST */email/send", SEND_FAULTS);
    stack.sim.setFault("*", OTHER_FAULTS);
    const started = Date.now();
    const fixture = await createOfferFixture(stack, {
      variants: [{ key: "a", subject: "Hi {{ first_name }}", html: "<p>x</p>", text: "x" }],
      channel: { batchSize: 200, apiRetries: 6 },
    });
    const execution = await createExecution(stack.deps, {
      offerId: fixture.offerId,
      channelId: fixture.channelId,
      audience: { type: "file", path: writeCsv(makeContacts(recipients, ["a"])), format: "csv" },
    });
    let replays = 0;
    try {
      replays = await replayUntilCompleted(execution.id, 10);
    } finally {
      stack.sim.clearFaults();
    }
    replays += await replayUntilCompleted(execution.id, 1);
    const figures = await expectExactlyOnce(stack, execution.id, { recipients });
    recordFigures({
      scenario: "LuxSci faults on 20% of send calls, 10% elsewhere",
      injected:
        "send: 429 (Retry-After 1 s) 3%, 500 1%, 502/503/504 2% each, reset 2%, hang past timeout 2%, garbled 2%, reply lost after accept 3%, accept after timeout 1%; other calls 10% retryable; report lag 1 s; LuxSci's clock +10 min",
      recipients,
      seconds: Math.round((Date.now() - started) / 1000),
      notes: `${replays} replays`,
      ...figures,
    });
  }, 900_000);

  it("an outage long enough to exhaust every retry: the failed batches are replayable and the replay sends no one twice", async () => {
    const recipients = 10_000;
    const before = stack.sim.ledger().total;
    stack.sim.setFault("POST */email/send", { latencyMs: 300 });
    const started = Date.now();
    const fixture = await createOfferFixture(stack, {
      variants: [{ key: "a", subject: "Yo {{ first_name }}", html: "<p>y</p>", text: "y" }],
      channel: { batchSize: 200, apiRetries: 4 },
    });
    const execution = await createExecution(stack.deps, {
      offerId: fixture.offerId,
      channelId: fixture.channelId,
      audience: {
        type: "file",
        path: writeCsv(makeContacts(recipients, ["a"], 1_000_000)),
        format: "csv",
      },
    });
    await waitForBatches(stack, execution.id, "sent", 5);
    // The outage: every send times out (the calls may have landed: unknown outcomes).
    stack.sim.setFault("POST */email/send", { hangRate: 0.5, rate503: 0.5 });
    expect(await waitForExecution(stack, execution.id, 300_000)).toBe("partially_failed");
    const failed = await stack.deps.prisma.batch.count({
      where: { executionId: execution.id, state: "failed" },
    });
    expect(failed).toBeGreaterThan(0);
    stack.sim.clearFaults();
    await replayExecution(stack.deps, execution.id);
    expect(await waitForExecution(stack, execution.id, 300_000)).toBe("completed");
    const figures = await expectExactlyOnce(stack, execution.id, {
      recipients,
      ledgerBefore: before,
    });
    recordFigures({
      scenario: "LuxSci outage exhausting every retry, then replay",
      injected: `after 5 of 50 batches: every send call hangs past the timeout or answers 503; 4 tries a batch; ${failed} batches failed, replayed once`,
      recipients,
      seconds: Math.round((Date.now() - started) / 1000),
      ...figures,
    });
  }, 900_000);
});
