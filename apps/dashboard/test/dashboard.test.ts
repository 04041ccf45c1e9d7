import { loadConfig } from "@luxrelay/config";
import {
  ALL_QUEUES,
  createQueue,
  createRedisConnection,
  jobId,
  QUEUE_NAMES,
  type TQueueName,
} from "@luxrelay/jobs";
import { createTestQueues, type TestQueues } from "@luxrelay/testkit";
import { type Queue, Worker } from "bullmq";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildDashboard } from "../src/index.ts";

// The dashboard over real HTTP, on real Redis queues under a prefix of its own.

const USER = "admin";
const PASSWORD = "correct-horse-battery";
const SECRETS = ["hunter2-secret", "a@x.com", "b@x.com", "pw123"];
const JOB_DATA = {
  executionId: 7,
  batchId: 3,
  password: "hunter2-secret",
  recipients: ["a@x.com", "b@x.com"],
  sftpUrl: "sftp://u:pw123@host/dir",
};

let redis: TestQueues;
let queues: Record<TQueueName, Queue>;
const apps: FastifyInstance[] = [];
let writable: string;
let readOnly: string;
let mounted: string;

function basic(user: string, password: string): Record<string, string> {
  return { authorization: `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}` };
}
const AUTH = basic(USER, PASSWORD);

async function get(url: string, headers: Record<string, string> = AUTH) {
  const response = await fetch(url, { headers });
  return { status: response.status, headers: response.headers, text: await response.text() };
}

async function put(url: string, headers: Record<string, string> = AUTH) {
  const response = await fetch(url, { method: "PUT", headers });
  return { status: response.status, text: await response.text() };
}

async function start(readOnlyMode: boolean, basePath?: string): Promise<string> {
  const app = await buildDashboard({
    queues: Object.values(queues),
    user: USER,
    password: PASSWORD,
    readOnly: readOnlyMode,
    basePath,
  });
  apps.push(app);
  const address = await app.listen({ host: "127.0.0.1", port: 0 });
  return `${address}${basePath ?? ""}`;
}

beforeAll(async () => {
  redis = createTestQueues();
  queues = Object.fromEntries(ALL_QUEUES.map((name) => [name, createQueue(name, redis)])) as Record<
    TQueueName,
    Queue
  >;
  writable = await start(false);
  readOnly = await start(true);
  mounted = await start(false, "/admin/queues");
});

afterAll(async () => {
  for (const app of apps) await app.close();
  for (const queue of Object.values(queues ?? {})) await queue.close();
  await redis?.cleanup();
});

describe("authentication", () => {
  const paths = ["/", "/static/favicon-32x32.png", "/api/queues", "/queue/send", "/no-such-page"];

  it.each(paths)("answers 401 with a Basic challenge on %s without credentials", async (path) => {
    const reply = await get(`${writable}${path}`, {});
    expect(reply.status).toBe(401);
    expect(reply.headers.get("www-authenticate")).toBe('Basic realm="luxrelay"');
  });

  it.each(paths)("answers 401 on %s with a wrong password or user", async (path) => {
    expect((await get(`${writable}${path}`, basic(USER, "wrong-password"))).status).toBe(401);
    expect((await get(`${writable}${path}`, basic(USER, `${PASSWORD}x`))).status).toBe(401);
    expect((await get(`${writable}${path}`, basic("root", PASSWORD))).status).toBe(401);
    expect((await get(`${writable}${path}`, { authorization: "Bearer abc" })).status).toBe(401);
  });

  it("serves the page, its static assets and the API with the right credentials", async () => {
    const page = await get(`${writable}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toMatch(/text\/html/);
    const script = page.text.match(/src="[^"]*?(static\/js\/[^"]+\.js)"/)?.[1];
    expect(script).toBeDefined();
    expect((await get(`${writable}/${script}`)).status).toBe(200);
    expect((await get(`${writable}/${script}`, {})).status).toBe(401);
    expect((await get(`${writable}/static/favicon-32x32.png`)).status).toBe(200);

    const api = await get(`${writable}/api/queues`);
    expect(api.status).toBe(200);
    const names = JSON.parse(api.text).queues.map((queue: { name: string }) => queue.name);
    expect(names.sort()).toEqual([...ALL_QUEUES].sort());
  });

  it("leaves the health check open", async () => {
    const reply = await get(`${writable}/healthz`, {});
    expect(reply.status).toBe(200);
    expect(JSON.parse(reply.text)).toEqual({ ok: true });
  });

  it("protects a board mounted under a base path", async () => {
    expect((await get(`${mounted}/api/queues`, {})).status).toBe(401);
    expect((await get(`${mounted}/static/favicon-32x32.png`, {})).status).toBe(401);
    expect((await get(`${mounted}/api/queues`)).status).toBe(200);
    const page = await get(`${mounted}/`);
    expect(page.status).toBe(200);
    expect(page.text).toContain('href="/admin/queues/');
  });
});

describe("job formatting", () => {
  it("shows ids and hides secrets, recipients and URL passwords", async () => {
    const id = jobId("batch", 3);
    await queues.send.add("send-batch", JOB_DATA, { jobId: id });

    const list = await get(`${writable}/api/queues?activeQueue=send&status=waiting&page=1`);
    expect(list.status).toBe(200);
    const send = JSON.parse(list.text).queues.find(
      (queue: { name: string }) => queue.name === "send",
    );
    const job = send.jobs.find((entry: { id: string }) => entry.id === id);
    expect(job.data).toEqual({
      executionId: 7,
      batchId: 3,
      password: "[redacted]",
      recipients: "[2 items]",
      sftpUrl: "sftp://u:***@host/dir",
    });
    expect(job.name).toBe("send-batch");

    const single = await get(`${writable}/api/queues/send/${id}`);
    expect(single.status).toBe(200);
    expect(JSON.parse(single.text).job.data).toMatchObject({ executionId: 7, batchId: 3 });

    for (const body of [list.text, single.text]) {
      for (const secret of SECRETS) expect(body).not.toContain(secret);
    }
  });

  it("masks failure reasons and stack traces", async () => {
    const connection = createRedisConnection({ redisUrl: loadConfig().redisUrl });
    const worker = new Worker(
      QUEUE_NAMES.exports,
      async () => {
        throw new Error("upload to sftp://u:pw123@host/dir failed for a@x.com");
      },
      { connection, prefix: redis.prefix },
    );
    try {
      const failed = new Promise<void>((resolve) => worker.once("failed", () => resolve()));
      await queues.exports.add("export", { executionId: 7 }, { jobId: jobId("export", 7) });
      await failed;
    } finally {
      await worker.close();
      await connection.quit();
    }

    const list = await get(`${writable}/api/queues?activeQueue=exports&status=failed&page=1`);
    const exports = JSON.parse(list.text).queues.find(
      (queue: { name: string }) => queue.name === "exports",
    );
    const [job] = exports.jobs;
    expect(job.failedReason).toBe("upload to sftp://u:***@host/dir failed for [email]");
    expect(job.stacktrace.length).toBeGreaterThan(0);
    for (const secret of SECRETS) expect(list.text).not.toContain(secret);
  });
});

describe("read-only mode", () => {
  it("refuses to pause a queue and says so to the UI", async () => {
    const reply = await put(`${readOnly}/api/queues/${QUEUE_NAMES.plan}/pause`);
    expect(reply.status).toBe(405);
    expect(await queues.plan.isPaused()).toBe(false);

    const refusedUnauthenticated = await put(
      `${readOnly}/api/queues/${QUEUE_NAMES.plan}/pause`,
      {},
    );
    expect(refusedUnauthenticated.status).toBe(401);

    const list = JSON.parse((await get(`${readOnly}/api/queues`)).text);
    for (const queue of list.queues) {
      expect(queue).toMatchObject({ readOnlyMode: true, allowRetries: false });
    }
  });

  it("refuses retry, clean and promote", async () => {
    for (const path of ["retry/failed", "clean/completed", "promote"]) {
      expect((await put(`${readOnly}/api/queues/${QUEUE_NAMES.send}/${path}`)).status).toBe(405);
    }
    expect(await queues.send.getJob(jobId("batch", 3))).toBeDefined();
  });

  it("lets a writable board pause and resume (the route the read-only test uses is real)", async () => {
    expect((await put(`${writable}/api/queues/${QUEUE_NAMES.housekeeping}/pause`)).status).toBe(
      200,
    );
    expect(await queues.housekeeping.isPaused()).toBe(true);
    expect((await put(`${writable}/api/queues/${QUEUE_NAMES.housekeeping}/resume`)).status).toBe(
      200,
    );
    expect(await queues.housekeeping.isPaused()).toBe(false);
  });
});
