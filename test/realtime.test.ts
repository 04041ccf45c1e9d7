import { createApiKey } from "@luxrelay/db";
import { JOB_NAMES, QUEUE_NAMES, realtimeJobId, type TRealtimePayload } from "@luxrelay/jobs";
import { buildProducerApi } from "@luxrelay/producer";
import { startWorkers, type WorkerProcess } from "@luxrelay/worker";
import { Queue } from "bullmq";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createOfferFixture, type OfferFixture, type Stack, startStack } from "./helpers/stack.ts";
import { spawnWorker } from "./helpers/worker-process.ts";

// Realtime sends (issue 7): the HTTP API and the realtime queue, the micro-batcher, QL
// templates, exactly-once per idempotency key, against the simulator with real workers.

let stack: Stack;
let worker: WorkerProcess;
let api: FastifyInstance;
let url: string;
let key: string;
let queue: Queue;
let fixture: OfferFixture;

beforeAll(async () => {
  stack = await startStack({
    simSeed: 41,
    env: { WORKER_QUEUES: "realtime", REALTIME_FLUSH_MS: "100" },
  });
  // LuxSci's clock half an hour behind ours, from the start: luxrelay dates what it compares
  // at LuxSci by LuxSci's clock (its Date header), never by ours.
  stack.sim.advanceClock(-1800);
  queue = new Queue(QUEUE_NAMES.realtime, {
    connection: stack.queues.connection,
    prefix: stack.queues.prefix,
  });
  worker = await startWorkers(stack.config, stack.logger);
  api = await buildProducerApi(stack.deps, stack.config, stack.logger, { realtimeQueue: queue });
  url = await api.listen({ host: "127.0.0.1", port: 0 });
  ({ key } = await createApiKey(stack.deps.pool, { name: "realtime-test", scope: "send" }));
  fixture = await createOfferFixture(stack, {
    variants: [
      {
        key: "a",
        subject: "Your code, {{ first_name }}",
        html: "<p>Code {{ code }}</p>",
        text: "Code {{ code }}",
      },
    ],
  });
});

afterAll(async () => {
  await api?.close();
  await worker?.stop();
  await queue?.close();
  await stack?.close();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function post(path: string, body: unknown) {
  const response = await fetch(`${url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
    body: JSON.stringify(body),
  });
  return {
    status: response.status,
    body: (await response.json()) as {
      realtime: {
        accepted: number;
        repeated: number;
        jobs: { jobId: string; state: string; result: { sendmailId?: string } | null }[];
      };
    },
  };
}

async function waitForJobs(ids: string[], timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const states = await Promise.all(ids.map(async (id) => (await queue.getJob(id))?.getState()));
    if (states.every((state) => state === "completed")) return;
    if (Date.now() > deadline) {
      const late = ids.filter((_, i) => states[i] !== "completed").slice(0, 3);
      const jobs = await Promise.all(late.map((id) => queue.getJob(id)));
      throw new Error(
        `jobs not completed: ${JSON.stringify(states.filter((s) => s !== "completed").slice(0, 5))}; ${JSON.stringify(
          jobs.map((job) => ({
            id: job?.id,
            attemptsMade: job?.attemptsMade,
            failedReason: job?.failedReason,
            delay: job?.delay,
            stacktrace: job?.stacktrace?.slice(-1),
          })),
        )}`,
      );
    }
    await sleep(50);
  }
}

function payload(key: string, n: number): TRealtimePayload {
  return {
    offerId: fixture.offerId,
    channelId: fixture.channelId,
    idempotencyKey: key,
    contact: {
      email: `rt${n}@example.com`,
      contactId: `c${n}`,
      attributes: { first_name: `N${n}`, code: String(1000 + n) },
    },
  };
}

describe("realtime sends", () => {
  it("a single contact goes out within the flush delay plus one call; a repeated key sends once", async () => {
    stack.sim.reset();
    const started = performance.now();
    const first = await post(`/realtime/${fixture.offerId}`, {
      channelId: fixture.channelId,
      idempotencyKey: "order-1",
      contacts: [
        {
          email: "Buyer@Example.com",
          contactId: "c1",
          attributes: { first_name: "Ann", code: "42" },
        },
      ],
    });
    expect(first.status).toBe(202);
    const jobId = realtimeJobId(fixture.offerId, "order-1");
    await waitForJobs([jobId]);
    const elapsed = performance.now() - started;
    // 100 ms flush delay + one LuxSci call (+ the template's creation, once) on localhost.
    expect(elapsed).toBeLessThan(2000);
    expect(stack.sim.ledger()).toMatchObject({ total: 1, duplicates: 0 });

    const again = await post(`/realtime/${fixture.offerId}`, {
      channelId: fixture.channelId,
      idempotencyKey: "order-1",
      contacts: [
        {
          email: "buyer@example.com",
          contactId: "c1",
          attributes: { first_name: "Ann", code: "42" },
        },
      ],
    });
    expect(again.status).toBe(200);
    expect(again.body.realtime).toMatchObject({ accepted: 0, repeated: 1 });
    expect(again.body.realtime.jobs[0]).toMatchObject({
      jobId,
      state: "completed",
      result: { status: "sent" },
    });
    await sleep(300);
    expect(stack.sim.ledger().total).toBe(1);
    const [entry] = stack.sim.ledgerEntries({
      sendmailIds: [again.body.realtime.jobs[0]?.result?.sendmailId as string],
    });
    expect(entry?.to).toBe("buyer@example.com");
    expect(stack.sim.mergedMessage(entry?.sendmailId as string)?.text).toBe("Code 42");
  });

  it("5,000 contacts arriving over a few seconds go out in batches of many, each once", async () => {
    const before = stack.sim.ledger().total;
    const ids: string[] = [];
    for (let wave = 0; wave < 10; wave++) {
      const jobs = Array.from({ length: 500 }, (_, i) => {
        const n = 10_000 + wave * 500 + i;
        const data = payload(`burst-${n}`, n);
        const jobId = realtimeJobId(fixture.offerId, data.idempotencyKey);
        ids.push(jobId);
        return { name: JOB_NAMES.realtime, data, opts: { jobId, attempts: 5 } };
      });
      await queue.addBulk(jobs);
      await sleep(200);
    }
    await waitForJobs(ids, 60_000);
    expect(stack.sim.ledger()).toMatchObject({ total: before + 5000, duplicates: 0 });
    const activity = await stack.deps.prisma.interactionLog.findMany({
      where: { offerId: fixture.offerId, hour: { not: null } },
    });
    const data = activity[0]?.data as { sent: number; calls: number };
    expect(data.sent).toBeGreaterThanOrEqual(5000);
    // Many per call: far fewer calls than contacts.
    expect(data.calls).toBeLessThan(150);
  }, 90_000);

  it("rollback deletes the offer's realtime template; the next send makes a new one", async () => {
    const before = await stack.deps.prisma.luxsciTemplate.findMany({
      where: { offerId: fixture.offerId, realtime: true },
    });
    expect(before.filter((t) => t.state === "active")).toHaveLength(1);
    const rolled = await post(`/offers/${fixture.offerId}/rollback`, {});
    expect(rolled.body).toEqual({ rollback: { deleted: 1 } });
    const after = await stack.deps.prisma.luxsciTemplate.findMany({
      where: { offerId: fixture.offerId, realtime: true },
    });
    expect(after.every((t) => t.state === "deleted")).toBe(true);
    const stats = (await (await fetch(`${stack.sim.origin}/__sim/stats`)).json()) as {
      templates: number;
    };
    expect(stats.templates).toBe(0);
    await queue.add(JOB_NAMES.realtime, payload("after-rollback", 1), {
      jobId: realtimeJobId(fixture.offerId, "after-rollback"),
    });
    await waitForJobs([realtimeJobId(fixture.offerId, "after-rollback")]);
    const again = await stack.deps.prisma.luxsciTemplate.findMany({
      where: { offerId: fixture.offerId, realtime: true, state: "active" },
    });
    expect(again).toHaveLength(1);
  });

  it("a multi-contact request's parts never take another request's key", async () => {
    const before = stack.sim.ledger().total;
    // Before, part 1 of key "k" and a single contact with key "k-1" were one job: one lost.
    const multi = await post(`/realtime/${fixture.offerId}`, {
      channelId: fixture.channelId,
      idempotencyKey: "k",
      contacts: [
        { email: "part1@example.com", contactId: "p1", attributes: { first_name: "P1" } },
        { email: "part2@example.com", contactId: "p2", attributes: { first_name: "P2" } },
      ],
    });
    const single = await post(`/realtime/${fixture.offerId}`, {
      channelId: fixture.channelId,
      idempotencyKey: "k-1",
      contacts: [{ email: "single@example.com", contactId: "p1", attributes: {} }],
    });
    expect(multi.body.realtime.accepted).toBe(2);
    expect(single.status).toBe(202);
    expect(single.body.realtime.accepted).toBe(1);
    const ids = [...multi.body.realtime.jobs, ...single.body.realtime.jobs].map((j) => j.jobId);
    expect(new Set(ids).size).toBe(3);
    await waitForJobs(ids);
    expect(stack.sim.ledger()).toMatchObject({ total: before + 3, duplicates: 0 });
  });

  it("replies lost after LuxSci accepted and a sent report that lags: each key once", async () => {
    const before = stack.sim.ledger().total;
    // Its sent report shows a send 800 ms after accepting it.
    stack.sim.setReportLag(800);
    stack.sim.setFault("POST */email/send", { resetAfterRate: 0.3, malformedRate: 0.1 });
    try {
      const ids: string[] = [];
      for (let wave = 0; wave < 6; wave++) {
        const jobs = Array.from({ length: 200 }, (_, i) => {
          const n = 90_000 + wave * 200 + i;
          const data = payload(`lost-${n}`, n);
          const jobId = realtimeJobId(fixture.offerId, data.idempotencyKey);
          ids.push(jobId);
          return { name: JOB_NAMES.realtime, data, opts: { jobId, attempts: 10 } };
        });
        await queue.addBulk(jobs);
        await sleep(150);
      }
      await waitForJobs(ids, 60_000);
    } finally {
      stack.sim.clearFaults();
      stack.sim.setReportLag(0);
    }
    expect(stack.sim.ledger()).toMatchObject({ total: before + 1200, duplicates: 0 });
  }, 90_000);

  it("a worker killed with SIGKILL loses nothing and duplicates nothing", async () => {
    const before = stack.sim.ledger().total;
    stack.sim.setFault("*/email/send", { latencyMs: 400 });
    // The sent report shows a send 700 ms after it was accepted.
    stack.sim.setReportLag(700);
    await worker.stop();
    const child = spawnWorker({ ...stack.env, WORKER_QUEUES: "realtime" });
    const ids: string[] = [];
    const jobs = Array.from({ length: 3000 }, (_, i) => {
      const data = payload(`chaos-${i}`, 50_000 + i);
      const jobId = realtimeJobId(fixture.offerId, data.idempotencyKey);
      ids.push(jobId);
      return { name: JOB_NAMES.realtime, data, opts: { jobId, attempts: 5 } };
    });
    await queue.addBulk(jobs);
    for (let i = 0; i < 400 && stack.sim.ledger().total === before; i++) await sleep(25);
    child.child.kill("SIGKILL");
    await child.exited;
    expect(stack.sim.ledger().total).toBeLessThan(before + 3000);
    await sleep(600);
    const restarted = spawnWorker({ ...stack.env, WORKER_QUEUES: "realtime" });
    try {
      await waitForJobs(ids, 90_000).catch((error: Error) => {
        throw new Error(`${error.message}\nworker output:\n${restarted.output().slice(-3000)}`);
      });
    } finally {
      restarted.child.kill("SIGTERM");
      await restarted.exited;
      stack.sim.clearFaults();
      stack.sim.setReportLag(0);
    }
    expect(stack.sim.ledger()).toMatchObject({ total: before + 3000, duplicates: 0 });
  }, 120_000);
});
