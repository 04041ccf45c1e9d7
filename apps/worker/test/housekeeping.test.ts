import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, readdir, rm, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig } from "@luxrelay/config";
import { createProcessPools } from "@luxrelay/db";
import { createQueue, JOB_NAMES, QUEUE_NAMES } from "@luxrelay/jobs";
import { createLogger } from "@luxrelay/logger";
import {
  createTestDatabase,
  createTestQueues,
  type TestDatabase,
  type TestQueues,
} from "@luxrelay/testkit";
import { QueueEvents } from "bullmq";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startWorkers, type WorkerProcess } from "../src/index.ts";

// The housekeeping role's audience sweep (issue 14): uploaded audiences older than
// AUDIENCE_RETENTION_DAYS are deleted, newer ones kept, and so is an old one a scheduled
// execution has yet to plan. Real PostgreSQL, Redis and worker.

let db: TestDatabase;
let queues: TestQueues;
let stateDir: string;
let worker: WorkerProcess;

beforeAll(async () => {
  db = await createTestDatabase({ migrated: true });
  queues = createTestQueues();
  stateDir = await mkdtemp(join(tmpdir(), "lr-housekeeping-"));
});

afterAll(async () => {
  await worker?.stop();
  await queues?.cleanup();
  await db?.drop();
  await rm(stateDir, { recursive: true, force: true });
});

describe("sweep-audience-files", () => {
  it("deletes audiences older than AUDIENCE_RETENTION_DAYS, keeps fresh ones and unplanned ones", async () => {
    const config = loadConfig({
      ...process.env,
      DATABASE_URL: db.url,
      QUEUE_PREFIX: queues.prefix,
      STATE_DIR: stateDir,
      WORKER_QUEUES: "housekeeping",
      AUDIENCE_RETENTION_DAYS: "7",
      LOG_LEVEL: "warn",
    });
    const dir = join(stateDir, "audiences");
    await mkdir(dir);
    const eightDaysAgo = new Date(Date.now() - 8 * 86_400_000);
    const sixDaysAgo = new Date(Date.now() - 6 * 86_400_000);
    const files = {
      old: "old.csv",
      fresh: "fresh.ndjson",
      scheduled: "scheduled.csv",
      paused: "paused.csv",
      failedPlan: "failed-plan.csv",
      completed: "completed.csv",
    };
    for (const [age, name] of [
      [eightDaysAgo, files.old],
      [sixDaysAgo, files.fresh],
      [eightDaysAgo, files.scheduled],
      [eightDaysAgo, files.paused],
      [eightDaysAgo, files.failedPlan],
      [eightDaysAgo, files.completed],
    ] as const) {
      await writeFile(join(dir, name), "email\na@example.com\n");
      await utimes(join(dir, name), age, age);
    }
    // A send scheduled further out than the retention still needs its file.
    const pools = createProcessPools(config);
    const { prisma } = pools;
    const channelId = randomBytes(16).toString("hex");
    await prisma.channel.create({
      data: {
        id: channelId,
        name: "c",
        apiUrl: "https://rest.luxsci.com/perl/api/v2",
        luxsciUser: "u",
        luxsciToken: "t",
        luxsciSecretEnc: "not-used",
        fromAddress: "news@example.com",
      },
    });
    const campaign = await prisma.campaign.create({ data: { name: "c" } });
    const offer = await prisma.offer.create({ data: { campaignId: campaign.id, name: "o" } });
    await prisma.execution.create({
      data: {
        offerId: offer.id,
        channelId,
        audience: { type: "file", path: join(dir, files.scheduled), format: "csv" },
        status: "scheduled",
        sendAt: new Date(Date.now() + 30 * 86_400_000),
      },
    });
    // Paused mid-plan, and failed in planning (a replay plans it from the start): no batches
    // yet, so the file is still needed. A completed execution's recipients are in PostgreSQL.
    for (const [name, status] of [
      [files.paused, "paused"],
      [files.failedPlan, "failed"],
      [files.completed, "completed"],
    ] as const) {
      await prisma.execution.create({
        data: {
          offerId: offer.id,
          channelId,
          audience: { type: "file", path: join(dir, name), format: "csv" },
          status,
        },
      });
    }
    await pools.close();
    // The worker may sweep at once on its own schedule: the job below makes sure it has.
    worker = await startWorkers(config, createLogger({ name: "worker", level: "warn" }));

    const queue = createQueue(QUEUE_NAMES.housekeeping, {
      connection: queues.connection,
      prefix: queues.prefix,
    });
    const events = new QueueEvents(QUEUE_NAMES.housekeeping, {
      connection: queues.connection.duplicate(),
      prefix: queues.prefix,
    });
    try {
      await events.waitUntilReady();
      const job = await queue.add(JOB_NAMES.housekeeping, { task: "sweep-audience-files" });
      await job.waitUntilFinished(events, 15_000);
    } finally {
      await events.close();
      await queue.close();
    }
    expect((await readdir(dir)).sort()).toEqual(
      [files.fresh, files.scheduled, files.paused, files.failedPlan].sort(),
    );
  });
});
