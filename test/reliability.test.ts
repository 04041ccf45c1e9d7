import { PassThrough } from "node:stream";
import {
  createExecution,
  expireRealtimeTemplates,
  exportMergeFile,
  replayExecution,
} from "@luxrelay/outbound";
import { startWorkers, type WorkerProcess } from "@luxrelay/worker";
import { parse } from "csv-parse/sync";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeContacts, writeCsv } from "./helpers/audience.ts";
import {
  ACCOUNT,
  createOfferFixture,
  type Stack,
  startStack,
  waitForBatches,
  waitForExecution,
} from "./helpers/stack.ts";

// The outbound promise under faults a real LuxSci and a real deployment produce (issue 13):
// replies lost after LuxSci accepted a send, a sent report that lags, LuxSci's clock far from
// ours, Redis losing its keys, a 429 on one account, finalize and planning failures, content
// edited after planning. Each checks the simulator's ledger: no recipient twice, none lost.

const OTHER = {
  user: "globex",
  pass: "globex-pass",
  token: "tok-globex",
  secret: "globex-secret-0123456789",
};

let stack: Stack;
let worker: WorkerProcess;

beforeAll(async () => {
  stack = await startStack({
    simSeed: 13,
    keepMergedMessages: 5_000,
    sim: { accounts: [ACCOUNT, OTHER] },
    env: {
      WORKER_QUEUES: "send,housekeeping",
      LUXSCI_TIMEOUT_MS: "2000",
      LUXSCI_REPORT_LAG_MS: "2500",
      RECONCILE_INTERVAL_MS: "2000",
    },
  });
  // LuxSci's clock an hour behind ours, from the first call on.
  stack.sim.advanceClock(-3600);
  worker = await startWorkers(stack.config, stack.logger);
});

afterAll(async () => {
  await worker?.stop();
  await stack?.close();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const VARIANT = {
  key: "a",
  subject: "Old news for {{ first_name }}",
  html: "<p>{{ first_name }}</p>",
  text: "{{ first_name }}",
};

async function send(
  count: number,
  options: { start?: number; channel?: Record<string, unknown> } = {},
) {
  const fixture = await createOfferFixture(stack, {
    variants: [VARIANT],
    channel: options.channel,
  });
  const contacts = makeContacts(count, ["a"], options.start ?? 1);
  const execution = await createExecution(stack.deps, {
    offerId: fixture.offerId,
    channelId: fixture.channelId,
    audience: { type: "file", path: writeCsv(contacts), format: "csv" },
  });
  return { fixture, contacts, execution };
}

/** Sent once each: the ledger grew by `count`, with no duplicate, and the database agrees. */
async function expectEachOnce(executionId: number, before: number, count: number) {
  expect(stack.sim.ledger()).toMatchObject({ total: before + count, duplicates: 0 });
  const sent = await stack.deps.prisma.recipient.count({ where: { executionId, state: "sent" } });
  expect(sent).toBe(count);
}

async function finalLog(executionId: number) {
  const logs = await stack.deps.prisma.interactionLog.findMany({
    where: { executionId, message: { startsWith: "execution " } },
    orderBy: { id: "desc" },
  });
  return logs[0]?.data as Record<string, number>;
}

describe("exactly once, whatever the reply", () => {
  it("replies lost after LuxSci accepted, accepts later than our timeout, garbled replies and a lagging sent report: each recipient once", async () => {
    const before = stack.sim.ledger().total;
    stack.sim.setReportLag(1000);
    stack.sim.setFault("POST */email/send", {
      resetAfterRate: 0.25,
      malformedRate: 0.1,
      acceptLateRate: 0.1,
      acceptLateMs: 3500,
    });
    try {
      const { execution } = await send(5000, { channel: { batchSize: 100 } });
      expect(await waitForExecution(stack, execution.id, 120_000)).toBe("completed");
      await expectEachOnce(execution.id, before, 5000);
      const retried = await stack.deps.prisma.batch.count({
        where: { executionId: execution.id, attempts: { gt: 1 } },
      });
      expect(retried).toBeGreaterThan(0);
      const unsettled = await stack.deps.prisma.batch.count({
        where: { executionId: execution.id, NOT: { unsettledSince: null } },
      });
      expect(unsettled).toBe(0);
      expect(await finalLog(execution.id)).toMatchObject({
        batchesSucceeded: 50,
        recipientsMerged: 5000,
      });
    } finally {
      stack.sim.clearFaults();
      stack.sim.setReportLag(0);
    }
  }, 150_000);
});

describe("limits answered as 401", () => {
  it("a 401 right after a fresh authentication LuxSci accepted is a limit: the batch tries again later, each recipient once", async () => {
    const before = stack.sim.ledger().total;
    stack.sim.setFault("POST */email/send", { rate401: 0.3 });
    try {
      const { execution } = await send(5000, { start: 600_000, channel: { batchSize: 100 } });
      expect(await waitForExecution(stack, execution.id, 60_000)).toBe("completed");
      await expectEachOnce(execution.id, before, 5000);
    } finally {
      stack.sim.clearFaults();
    }
  }, 90_000);
});

describe("PostgreSQL is the truth; Redis can be rebuilt", () => {
  it("every Redis key of the queue prefix deleted mid-send: the reconciler re-adds the jobs and the execution completes, each recipient once", async () => {
    const before = stack.sim.ledger().total;
    stack.sim.setFault("POST */email/send", { latencyMs: 150 });
    try {
      const { execution } = await send(10_000, { start: 100_000, channel: { batchSize: 200 } });
      await waitForBatches(stack, execution.id, "sent", 8);
      const deleted = await stack.queues.deleteKeys();
      expect(deleted).toBeGreaterThan(0);
      const sentAtWipe = await stack.deps.prisma.batch.count({
        where: { executionId: execution.id, state: "sent" },
      });
      expect(sentAtWipe).toBeLessThan(50);
      expect(await waitForExecution(stack, execution.id, 60_000)).toBe("completed");
      await expectEachOnce(execution.id, before, 10_000);
      const templates = await stack.deps.prisma.luxsciTemplate.findMany({
        where: { executionId: execution.id },
      });
      expect(templates.map((t) => t.state)).toEqual(["deleted"]);
    } finally {
      stack.sim.clearFaults();
    }
  }, 90_000);
});

describe("executions end in the truth", () => {
  it("a template LuxSci won't delete: finalize retries and completes; on its last attempt it ends the execution and the sweep deletes the template later", async () => {
    stack.sim.setFault("DELETE */template/*", { rate500: 1 });
    const first = await send(300, { start: 200_000 });
    await sleep(1500);
    // Still sending: the finalize is retrying the delete.
    const during = await stack.deps.prisma.execution.findUniqueOrThrow({
      where: { id: first.execution.id },
    });
    expect(during.status).toBe("sending");
    stack.sim.clearFaults();
    expect(await waitForExecution(stack, first.execution.id, 30_000)).toBe("completed");
    expect(await finalLog(first.execution.id)).toMatchObject({ templatesDeleted: 1 });

    stack.sim.setFault("DELETE */template/*", { rate500: 1 });
    const second = await send(300, { start: 201_000 });
    expect(await waitForExecution(stack, second.execution.id, 60_000)).toBe("completed");
    expect(await finalLog(second.execution.id)).toMatchObject({
      templatesDeleted: 0,
      templatesLeftForSweep: 1,
    });
    stack.sim.clearFaults();
    expect(await expireRealtimeTemplates(stack.deps)).toMatchObject({ failed: 0 });
    const left = await stack.deps.prisma.luxsciTemplate.count({
      where: { executionId: second.execution.id, state: "active" },
    });
    expect(left).toBe(0);
  }, 90_000);

  it("a split rule naming no variant of the offer is refused at create; set later, the plan fails at once with the reason", async () => {
    const fixture = await createOfferFixture(stack, { variants: [VARIANT] });
    const input = {
      offerId: fixture.offerId,
      channelId: fixture.channelId,
      audience: { type: "file", path: writeCsv(makeContacts(10, ["a"])), format: "csv" },
    };
    const setRule = () =>
      stack.deps.prisma.offer.update({
        where: { id: fixture.offerId },
        data: { variantRule: { type: "split", weights: { nope: 1 } } },
      });
    // Created for in a moment, the rule broken meanwhile: the planner refuses it too.
    const execution = await createExecution(stack.deps, {
      ...input,
      sendAt: new Date(Date.now() + 1500),
    });
    await setRule();
    await expect(createExecution(stack.deps, input)).rejects.toThrow(/variantRule: .*"nope"/);
    expect(await waitForExecution(stack, execution.id, 10_000)).toBe("failed");
    const row = await stack.deps.prisma.execution.findUniqueOrThrow({
      where: { id: execution.id },
    });
    expect(row.error).toMatch(/planning failed: variantRule: .*nope/);
  });

  it("a 429 on one LuxSci account holds that channel only: another channel's execution completes meanwhile", async () => {
    const before = stack.sim.ledger().total;
    stack.sim.setFault(`POST /user/${ACCOUNT.user}/email/send`, {
      rate429: 1,
      retryAfterSeconds: 5,
    });
    try {
      const held = await send(2000, { start: 300_000, channel: { batchSize: 100 } });
      const other = await send(2000, {
        start: 400_000,
        channel: {
          batchSize: 100,
          luxsciUser: OTHER.user,
          luxsciToken: OTHER.token,
          luxsciSecret: OTHER.secret,
        },
      });
      const started = Date.now();
      expect(await waitForExecution(stack, other.execution.id, 30_000)).toBe("completed");
      // Well within the held channel's first Retry-After.
      expect(Date.now() - started).toBeLessThan(5_000);
      const heldNow = await stack.deps.prisma.execution.findUniqueOrThrow({
        where: { id: held.execution.id },
      });
      expect(heldNow.status).toBe("sending");
      stack.sim.clearFaults();
      expect(await waitForExecution(stack, held.execution.id, 60_000)).toBe("completed");
      expect(stack.sim.ledger()).toMatchObject({ total: before + 4000, duplicates: 0 });
    } finally {
      stack.sim.clearFaults();
    }
  }, 90_000);

  it("an execution sends, replays and exports the content as planned, whatever is edited later", async () => {
    const before = stack.sim.ledger().total;
    stack.sim.setFault("POST */email/send", { rate400: 1 });
    const { fixture, execution } = await send(250, { start: 500_000, channel: { batchSize: 100 } });
    expect(await waitForExecution(stack, execution.id, 30_000)).toBe("failed");
    stack.sim.clearFaults();
    await stack.deps.prisma.contentVariant.updateMany({
      where: { offerId: fixture.offerId },
      data: { subject: "New news for {{ first_name }}", html: "<p>changed</p>" },
    });
    const batch = await stack.deps.prisma.batch.findFirstOrThrow({
      where: { executionId: execution.id },
      orderBy: { seq: "asc" },
    });
    const out = new PassThrough();
    const chunks: Buffer[] = [];
    out.on("data", (chunk: Buffer) => chunks.push(chunk));
    await exportMergeFile(stack.deps, batch.id, out);
    const rows = parse(Buffer.concat(chunks).toString(), { columns: true }) as {
      subject: string;
    }[];
    expect(rows[0]?.subject).toMatch(/^Old news for /);

    expect(await replayExecution(stack.deps, execution.id)).toMatchObject({ round: 1, batches: 3 });
    expect(await waitForExecution(stack, execution.id, 30_000)).toBe("completed");
    await expectEachOnce(execution.id, before, 250);
    const chids = (
      await stack.deps.prisma.recipient.findMany({ where: { executionId: execution.id }, take: 5 })
    ).map((r) => r.chid);
    for (const entry of stack.sim.ledgerEntries({ chids })) {
      expect(entry.subject).toMatch(/^Old news for /);
    }
  }, 60_000);
});
