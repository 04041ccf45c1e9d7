import { createExecution, replayExecution } from "@luxrelay/outbound";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeContacts, writeCsv } from "./helpers/audience.ts";
import {
  createOfferFixture,
  type Stack,
  startStack,
  waitForBatches,
  waitForExecution,
} from "./helpers/stack.ts";
import { spawnWorker } from "./helpers/worker-process.ts";

// Exactly once under kill -9 (docs/reliability.md): worker processes die in the middle of
// LuxSci calls (the calls still land at LuxSci, and its sent report shows them only after a
// lag), and the batches they held are taken over by another worker, settled against the sent
// report, and finished. The simulator's ledger must show every recipient once: none lost,
// none twice.

const REPORT_LAG_MS = 700;
let stack: Stack;

beforeAll(async () => {
  stack = await startStack({
    simSeed: 9,
    sim: { reportLagMs: REPORT_LAG_MS },
    env: { LUXSCI_TIMEOUT_MS: "2000", LUXSCI_REPORT_LAG_MS: "1500" },
  });
});

afterAll(async () => {
  await stack?.close();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("exactly once under SIGKILL", () => {
  it("a worker killed mid-send: after a restart no recipient twice and none lost", async () => {
    // Each send call takes 800 ms at LuxSci, so a kill lands while calls are in flight.
    stack.sim.setFault("*/email/send", { latencyMs: 800 });
    const fixture = await createOfferFixture(stack, {
      variants: [
        {
          key: "a",
          subject: "Hi {{ first_name }}",
          html: "<p>{{ first_name }}</p>",
          text: "{{ first_name }}",
        },
      ],
    });
    const contacts = makeContacts(8000, ["a"]);
    const env = { ...stack.env, WORKER_CONCURRENCY_SEND: "3" };
    const first = spawnWorker(env);
    const execution = await createExecution(stack.deps, {
      offerId: fixture.offerId,
      channelId: fixture.channelId,
      audience: { type: "file", path: writeCsv(contacts), format: "csv" },
    });
    // Kill once some batches are sending (in flight at LuxSci) and before all are done.
    await waitForBatches(stack, execution.id, "sending", 1, 6_000);
    await sleep(300);
    first.child.kill("SIGKILL");
    expect(await first.exited).toBe("SIGKILL");
    const inFlight = await stack.deps.prisma.batch.count({
      where: { executionId: execution.id, state: "sending" },
    });
    expect(inFlight).toBeGreaterThan(0);

    // Let the killed calls land at LuxSci, then a new worker takes over.
    await sleep(1000);
    const second = spawnWorker(env);
    try {
      expect(await waitForExecution(stack, execution.id, 90_000)).toBe("completed");
    } finally {
      second.child.kill("SIGTERM");
      await second.exited;
    }
    expect(stack.sim.ledger()).toMatchObject({ total: contacts.length, duplicates: 0 });
    expect(stack.sim.duplicates()).toEqual([]);
    const reconciled = await stack.deps.prisma.batch.count({
      where: { executionId: execution.id, attempts: { gt: 1 } },
    });
    expect(reconciled).toBeGreaterThan(0);
  });

  it("a batch whose job stalled too often ends failed, not lost: replay sends the rest, no one twice", async () => {
    stack.sim.reset();
    stack.sim.setReportLag(REPORT_LAG_MS);
    stack.sim.setFault("*/email/send", { latencyMs: 800 });
    const fixture = await createOfferFixture(stack, {
      variants: [{ key: "a", subject: "Hey {{ first_name }}", html: "<p>x</p>", text: "x" }],
      channel: { batchSize: 200 },
    });
    const contacts = makeContacts(3000, ["a"], 20_000);
    // No takeover allowed: a job whose worker died fails as "stalled" instead.
    const env = { ...stack.env, WORKER_CONCURRENCY_SEND: "3", WORKER_MAX_STALLED: "0" };
    const first = spawnWorker(env);
    const execution = await createExecution(stack.deps, {
      offerId: fixture.offerId,
      channelId: fixture.channelId,
      audience: { type: "file", path: writeCsv(contacts), format: "csv" },
    });
    await waitForBatches(stack, execution.id, "sending", 1, 6_000);
    await sleep(300);
    first.child.kill("SIGKILL");
    await first.exited;
    const second = spawnWorker(env);
    try {
      expect(await waitForExecution(stack, execution.id, 60_000)).toBe("partially_failed");
      const failed = await stack.deps.prisma.batch.findMany({
        where: { executionId: execution.id, state: "failed" },
      });
      expect(failed.length).toBeGreaterThan(0);
      expect(failed[0]?.error).toMatch(/ended without sending it/);
      // Never "completed" with batches left unsent, and nothing left pending or sending.
      const unended = await stack.deps.prisma.batch.count({
        where: { executionId: execution.id, state: { in: ["pending", "sending"] } },
      });
      expect(unended).toBe(0);
      expect(await replayExecution(stack.deps, execution.id)).toMatchObject({
        batches: failed.length,
      });
      expect(await waitForExecution(stack, execution.id, 60_000)).toBe("completed");
    } finally {
      second.child.kill("SIGTERM");
      await second.exited;
    }
    expect(stack.sim.ledger()).toMatchObject({ total: 3000, duplicates: 0 });
  }, 120_000);

  it("SIGTERM lets in-flight batches finish before the worker exits", async () => {
    stack.sim.reset();
    stack.sim.setReportLag(REPORT_LAG_MS);
    stack.sim.setFault("*/email/send", { latencyMs: 500 });
    const fixture = await createOfferFixture(stack, {
      variants: [{ key: "a", subject: "Yo {{ first_name }}", html: "<p>x</p>", text: "x" }],
    });
    const contacts = makeContacts(3000, ["a"], 50_000);
    const worker = spawnWorker({ ...stack.env, WORKER_CONCURRENCY_SEND: "3", LOG_LEVEL: "info" });
    const execution = await createExecution(stack.deps, {
      offerId: fixture.offerId,
      channelId: fixture.channelId,
      audience: { type: "file", path: writeCsv(contacts), format: "csv" },
    });
    await waitForBatches(stack, execution.id, "sending", 1, 6_000);
    worker.child.kill("SIGTERM");
    expect(await worker.exited).toBe(0);
    // Nothing is left half-sent: every batch is pending or sent.
    const sending = await stack.deps.prisma.batch.count({
      where: { executionId: execution.id, state: "sending" },
    });
    expect(sending).toBe(0);
    expect(worker.output()).toContain("worker stopped");
    const restarted = spawnWorker(stack.env);
    try {
      expect(await waitForExecution(stack, execution.id, 60_000)).toBe("completed");
    } finally {
      restarted.child.kill("SIGTERM");
      await restarted.exited;
    }
    expect(stack.sim.ledger()).toMatchObject({ total: 3000, duplicates: 0 });
  });
});
