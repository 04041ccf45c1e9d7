import { createTestQueues, type TestQueues } from "@luxrelay/testkit";
import { Queue } from "bullmq";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createQueue, jobId, QUEUE_NAMES, uniqueQueuePrefix } from "../src/index.ts";

let a: TestQueues;
let b: TestQueues;

beforeAll(() => {
  a = createTestQueues();
  b = createTestQueues();
});

afterAll(async () => {
  await a?.cleanup();
  await b?.cleanup();
});

describe("queues on real Redis", () => {
  it("connects with BullMQ's required settings", async () => {
    expect(a.connection.options.maxRetriesPerRequest).toBeNull();
    expect(await a.connection.ping()).toBe("PONG");
  });

  it("keeps each prefix's jobs apart and removes them all on cleanup", async () => {
    const queueA = createQueue(QUEUE_NAMES.send, a);
    const queueB = createQueue(QUEUE_NAMES.send, b);
    await queueA.add("send", { batchId: 1 }, { jobId: jobId("batch", 1) });
    // Same business key twice: BullMQ keeps one job (what makes a re-plan harmless).
    await queueA.add("send", { batchId: 1 }, { jobId: jobId("batch", 1) });
    expect(await queueA.getJobCounts("waiting")).toEqual({ waiting: 1 });
    expect(await queueB.getJobCounts("waiting")).toEqual({ waiting: 0 });
    await queueA.close();
    await queueB.close();

    const throwaway = createTestQueues();
    const queue = new Queue(QUEUE_NAMES.plan, {
      connection: throwaway.connection,
      prefix: throwaway.prefix,
    });
    await queue.add("plan", { executionId: 9 });
    await queue.close();
    const pattern = `${throwaway.prefix}:*`;
    expect((await a.connection.keys(pattern)).length).toBeGreaterThan(0);
    await throwaway.cleanup();
    expect(await a.connection.keys(pattern)).toEqual([]);
  });

  it("refuses job ids BullMQ would misread", () => {
    expect(jobId("batch", 42)).toBe("batch-42");
    expect(() => jobId("batch", "a:b")).toThrow(/must not contain ':'/);
    expect(uniqueQueuePrefix()).not.toBe(uniqueQueuePrefix());
  });
});
