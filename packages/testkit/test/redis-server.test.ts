import { existsSync } from "node:fs";
import { connect } from "node:net";
import { loadConfig } from "@luxrelay/config";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startRedisServer, type TestRedisServer } from "../src/index.ts";

// Past appendfsync everysec's window, so the write is in the AOF before the SIGKILL.
const AOF_FSYNC_WAIT_MS = 1_200;

async function withRedis<T>(url: string, fn: (redis: Redis) => Promise<T>): Promise<T> {
  const redis = new Redis(url, { maxRetriesPerRequest: 0, retryStrategy: () => null });
  try {
    return await fn(redis);
  } finally {
    redis.disconnect();
  }
}

async function serverIdentity(url: string): Promise<{ runId?: string; pid?: string }> {
  const info = await withRedis(url, (redis) => redis.info("server"));
  return {
    runId: /run_id:(\w+)/.exec(info)?.[1],
    pid: /process_id:(\d+)/.exec(info)?.[1],
  };
}

function refusesConnections(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(false);
    });
    socket.once("error", () => resolve(true));
  });
}

const machineRedisUrl = loadConfig().redisUrl;
let machineRedisBefore: Awaited<ReturnType<typeof serverIdentity>>;
const servers: TestRedisServer[] = [];

beforeAll(async () => {
  machineRedisBefore = await serverIdentity(machineRedisUrl);
});

afterAll(async () => {
  await Promise.all(servers.map((server) => server.close()));
});

async function startServer(appendonly: boolean): Promise<TestRedisServer> {
  const server = await startRedisServer({ appendonly });
  servers.push(server);
  expect(server.port).not.toBe(6379);
  expect(server.url).toBe(`redis://127.0.0.1:${server.port}`);
  return server;
}

describe("test-owned redis-server", () => {
  it("with AOF on, keeps a key across a crash (SIGKILL) restart on the same port", async () => {
    const server = await startServer(true);
    await withRedis(server.url, (redis) => redis.set("chaos:key", "kept"));
    await new Promise((resolve) => setTimeout(resolve, AOF_FSYNC_WAIT_MS));
    const before = await serverIdentity(server.url);
    await server.restart({ crash: true });
    const after = await serverIdentity(server.url);
    expect(after.pid).not.toBe(before.pid);
    expect(await withRedis(server.url, (redis) => redis.get("chaos:key"))).toBe("kept");
    expect(await withRedis(server.url, (redis) => redis.config("GET", "maxmemory-policy"))).toEqual(
      ["maxmemory-policy", "noeviction"],
    );
  });

  it("with AOF off, comes back empty after a crash and after a clean stop", async () => {
    const server = await startServer(false);
    await withRedis(server.url, (redis) => redis.set("chaos:key", "lost"));
    await server.kill();
    expect(await refusesConnections(server.port)).toBe(true);
    await server.start();
    expect(await withRedis(server.url, (redis) => redis.get("chaos:key"))).toBeNull();
    await withRedis(server.url, (redis) => redis.set("chaos:key", "lost again"));
    await server.restart();
    expect(await withRedis(server.url, (redis) => redis.dbsize())).toBe(0);
  });

  it("close() stops it and removes its directory", async () => {
    const server = await startServer(true);
    await server.close();
    expect(existsSync(server.dir)).toBe(false);
    expect(await refusesConnections(server.port)).toBe(true);
    await expect(server.start()).rejects.toThrow(/closed/);
  });

  it("leaves the machine's Redis running, never restarted", async () => {
    const machineRedisNow = await serverIdentity(machineRedisUrl);
    expect(machineRedisNow.runId).toBeDefined();
    expect(machineRedisNow).toEqual(machineRedisBefore);
  });
});
