import { PassThrough } from "node:stream";
import {
  cancelExecution,
  createExecution,
  exportMergeFile,
  pauseExecution,
  replayExecution,
  resumeExecution,
} from "@luxrelay/outbound";
import { startWorkers, type WorkerProcess } from "@luxrelay/worker";
import { parse } from "csv-parse/sync";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeContacts, writeCsv } from "./helpers/audience.ts";
import { createOfferFixture, type Stack, startStack, waitForExecution } from "./helpers/stack.ts";

// Replay, scheduling, pause/resume, cancel, seeds and the mail-merge export (docs/architecture.md
// "Outbound" 9-10), with in-process workers against the simulator.

const VARIANT = {
  key: "main",
  subject: "News for {{ first_name }}",
  html: "<p>Hello {{ first_name }} from {{ city }}</p>",
  text: "Hello {{ first_name }}",
};

let stack: Stack;
let worker: WorkerProcess;

beforeAll(async () => {
  stack = await startStack({
    simSeed: 3,
    keepMergedMessages: 10_000,
    // The table audience below (issue 14: only tables the operator allows).
    env: { AUDIENCE_TABLES: "crm_contacts" },
  });
  worker = await startWorkers(stack.config, stack.logger);
});

afterAll(async () => {
  await worker?.stop();
  await stack?.close();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function newExecution(
  count: number,
  options: { sendAt?: Date; seeds?: string[]; start?: number; batchSize?: number } = {},
) {
  const fixture = await createOfferFixture(stack, {
    variants: [VARIANT],
    seeds: options.seeds,
    channel: options.batchSize ? { batchSize: options.batchSize } : undefined,
  });
  const contacts = makeContacts(count, ["main"], options.start ?? 1);
  const execution = await createExecution(stack.deps, {
    offerId: fixture.offerId,
    channelId: fixture.channelId,
    audience: { type: "file", path: writeCsv(contacts), format: "csv" },
    sendAt: options.sendAt,
  });
  return { fixture, contacts, execution };
}

describe("outbound control", () => {
  it("a batch refused with 400 leaves the execution partially failed; replay sends only it, once", async () => {
    stack.sim.reset();
    stack.sim.setFault("*/email/send", { rate400: 0.4 });
    const { execution, contacts } = await newExecution(6000, { start: 100_000 });
    expect(await waitForExecution(stack, execution.id)).toBe("partially_failed");
    const failed = await stack.deps.prisma.batch.findMany({
      where: { executionId: execution.id, state: "failed" },
    });
    expect(failed.length).toBeGreaterThan(0);
    expect(failed.length).toBeLessThan(6);
    expect(failed[0]?.error).toContain("injected 400");
    const sentBefore = stack.sim.ledger().total;
    expect(sentBefore).toBe(6000 - failed.reduce((n, b) => n + b.recipientCount, 0));

    stack.sim.clearFaults();
    const replay = await replayExecution(stack.deps, execution.id);
    expect(replay.batches).toBe(failed.length);
    expect(await waitForExecution(stack, execution.id)).toBe("completed");
    expect(stack.sim.ledger()).toMatchObject({ total: contacts.length, duplicates: 0 });
    // Replaying a completed execution is refused.
    await expect(replayExecution(stack.deps, execution.id)).rejects.toThrow(
      /completed: cannot replay/,
    );
  });

  it("429s and 503s on sends are retried (the queue waits out Retry-After): all sent once", async () => {
    stack.sim.reset();
    stack.sim.setFault("*/email/send", { rate429: 0.3, retryAfterSeconds: 1, rate503: 0.2 });
    const { execution, contacts } = await newExecution(5000, { start: 600_000 });
    expect(await waitForExecution(stack, execution.id, 60_000)).toBe("completed");
    stack.sim.clearFaults();
    expect(stack.sim.ledger()).toMatchObject({ total: contacts.length, duplicates: 0 });
  });

  it("an audience can be a table already in PostgreSQL; any column is a template variable", async () => {
    stack.sim.reset();
    await stack.deps.pool.query(
      `CREATE TABLE crm_contacts AS SELECT 'k' || n AS contact_id, 'Table.' || n || '@Example.com' AS email,
         'Tab\\le "' || n || E'"\ttab' AS first_name, 'Oslo' AS city FROM generate_series(1, 1500) n`,
    );
    const fixture = await createOfferFixture(stack, { variants: [VARIANT] });
    const execution = await createExecution(stack.deps, {
      offerId: fixture.offerId,
      channelId: fixture.channelId,
      audience: { type: "table", name: "crm_contacts" },
    });
    expect(await waitForExecution(stack, execution.id)).toBe("completed");
    expect(stack.sim.ledger()).toMatchObject({ total: 1500, duplicates: 0 });
    const [entry] = stack.sim.ledgerEntries({
      chids: [`${execution.id}_${fixture.offerId}_${fixture.channelId}_k7`],
    });
    expect(entry?.to).toBe("table.7@example.com");
    expect(stack.sim.mergedMessage(entry?.sendmailId as string)?.text).toBe(
      'Hello Tab\\le "7"\ttab',
    );
  });

  it("scheduling: nothing is planned or sent before sendAt", async () => {
    stack.sim.reset();
    const sendAt = new Date(Date.now() + 2500);
    const { execution } = await newExecution(500, { sendAt, start: 200_000 });
    await sleep(1000);
    const early = await stack.deps.prisma.execution.findUniqueOrThrow({
      where: { id: execution.id },
    });
    expect(early.status).toBe("scheduled");
    expect(stack.sim.ledger().total).toBe(0);
    expect(await waitForExecution(stack, execution.id)).toBe("completed");
    const ended = await stack.deps.prisma.execution.findUniqueOrThrow({
      where: { id: execution.id },
    });
    expect(ended.startedAt?.getTime()).toBeGreaterThanOrEqual(sendAt.getTime());
    expect(stack.sim.ledger().total).toBe(500);
  });

  it("pause holds the batches; resume sends them; cancel of a scheduled execution sends nothing", async () => {
    stack.sim.reset();
    stack.sim.setFault("*/email/send", { latencyMs: 300 });
    // 50 batches of 100 at 300 ms a call: far more than the workers send at once, so the pause
    // lands while most are still waiting.
    const { execution } = await newExecution(5000, { start: 300_000, batchSize: 100 });
    // Pause as soon as planning has made the batches.
    for (
      let i = 0;
      i < 100 &&
      (await stack.deps.prisma.batch.count({ where: { executionId: execution.id } })) === 0;
      i++
    ) {
      await sleep(20);
    }
    await pauseExecution(stack.deps, execution.id);
    await sleep(1500);
    const pausedAt = stack.sim.ledger().total;
    await sleep(1500);
    expect(stack.sim.ledger().total).toBe(pausedAt);
    expect(pausedAt).toBeLessThan(5000);
    await expect(pauseExecution(stack.deps, execution.id)).rejects.toThrow(/paused: cannot pause/);
    await resumeExecution(stack.deps, execution.id);
    expect(await waitForExecution(stack, execution.id)).toBe("completed");
    expect(stack.sim.ledger()).toMatchObject({ total: 5000, duplicates: 0 });
    stack.sim.clearFaults();

    const later = await newExecution(100, {
      sendAt: new Date(Date.now() + 60_000),
      start: 400_000,
    });
    await cancelExecution(stack.deps, later.execution.id);
    expect(await stack.deps.queues.plan.getJob(`plan-${later.execution.id}`)).toBeUndefined();
    const cancelled = await stack.deps.prisma.execution.findUniqueOrThrow({
      where: { id: later.execution.id },
    });
    expect(cancelled.status).toBe("cancelled");
    await expect(resumeExecution(stack.deps, later.execution.id)).rejects.toThrow(
      /cancelled: cannot resume/,
    );
  });

  it("seeds get each content once; the mail-merge export shows what LuxSci merged", async () => {
    stack.sim.reset();
    const seeds = ["proof1@acme.example", "proof2@acme.example"];
    const { execution } = await newExecution(50, { seeds, start: 500_000 });
    expect(await waitForExecution(stack, execution.id)).toBe("completed");
    expect(stack.sim.ledger().total).toBe(52);
    const seedRows = await stack.deps.prisma.recipient.findMany({
      where: { executionId: execution.id, isSeed: true },
    });
    expect(seedRows.map((r) => r.email).sort()).toEqual(seeds);
    expect(seedRows.every((r) => r.state === "sent")).toBe(true);
    const log = await stack.deps.prisma.interactionLog.findFirst({
      where: { executionId: execution.id, message: { startsWith: "execution completed" } },
    });
    expect(log?.data).toMatchObject({ seedsSent: 2, recipientsMerged: 52 });

    const [batch] = await stack.deps.prisma.batch.findMany({
      where: { executionId: execution.id },
    });
    const out = new PassThrough();
    const chunks: Buffer[] = [];
    out.on("data", (chunk: Buffer) => chunks.push(chunk));
    const { rows } = await exportMergeFile(stack.deps, batch?.id as number, out);
    expect(rows).toBe(52);
    const records = parse(Buffer.concat(chunks), { columns: true }) as Record<string, string>[];
    for (const record of records.slice(0, 10)) {
      const merged = stack.sim.mergedMessage(record.sendmail_id as string);
      expect({ subject: record.subject, html: record.html, text: record.text }).toEqual(merged);
    }
  });
});
