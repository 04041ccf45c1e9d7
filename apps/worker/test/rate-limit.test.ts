import { channelThrottle } from "@luxrelay/jobs";
import { createTestQueues, type TestQueues } from "@luxrelay/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

// The per-channel requests-per-minute limit (channel.rateLimitPerMinute), on real Redis.
let queues: TestQueues;

beforeAll(() => {
  queues = createTestQueues();
});
afterAll(async () => {
  await queues.cleanup();
});

describe("channel rate limit", () => {
  it("lets N calls a minute through per channel, then says how long to wait", async () => {
    const { waitForRate: wait } = channelThrottle(queues.connection, queues.prefix);
    expect(await wait("aaa", 2)).toBe(0);
    expect(await wait("aaa", 2)).toBe(0);
    const third = await wait("aaa", 2);
    expect(third).toBeGreaterThan(0);
    expect(third).toBeLessThanOrEqual(60_050);
    // Another channel has its own window.
    expect(await wait("bbb", 2)).toBe(0);
    const keys = await queues.connection.keys(`${queues.prefix}:ratelimit:*`);
    expect(keys.length).toBe(2);
    for (const key of keys) expect(await queues.connection.ttl(key)).toBeGreaterThan(0);
    await queues.connection.del(...keys);
  });
});

describe("channel hold after a 429", () => {
  it("holds one channel for the time asked, never shortens a longer hold, leaves others", async () => {
    const throttle = channelThrottle(queues.connection, queues.prefix);
    expect(await throttle.pausedFor("ccc")).toBe(0);
    await throttle.pause("ccc", 5_000);
    await throttle.pause("ccc", 1_000);
    const held = await throttle.pausedFor("ccc");
    expect(held).toBeGreaterThan(4_000);
    expect(held).toBeLessThanOrEqual(5_000);
    expect(await throttle.pausedFor("ddd")).toBe(0);
    await throttle.pause("ddd", 50);
    await new Promise((resolve) => setTimeout(resolve, 120));
    expect(await throttle.pausedFor("ddd")).toBe(0);
  });
});
