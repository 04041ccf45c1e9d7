import { mkdtempSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  createExportJobs,
  createSyncRuntime,
  runChannelSync,
  type SyncRuntime,
  scheduleChannelSyncs,
  stepExportJob,
} from "@luxrelay/inbound";
import { QUEUE_NAMES } from "@luxrelay/jobs";
import { LuxSciClient } from "@luxrelay/luxsci";
import { startSimulator } from "@luxrelay/luxsci-sim";
import { createExecution, getExecutionStatus } from "@luxrelay/outbound";
import { startSshd, type TestSshd } from "@luxrelay/testkit";
import { startWorkers, type WorkerProcess } from "@luxrelay/worker";
import { Queue } from "bullmq";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeContacts, writeCsv } from "./helpers/audience.ts";
import {
  ACCOUNT,
  createOfferFixture,
  exportModeChannel,
  type Stack,
  startStack,
  waitForExecution,
} from "./helpers/stack.ts";
import { simulatorReportTotals, storedTotals } from "./helpers/sync.ts";

// Seed 000 inbound steps 1-11 end to end: a real send, the simulator's events, then API-mode
// and export-mode syncs (a real sshd as the SFTP destination) into PostgreSQL.

let stack: Stack;
let sync: SyncRuntime;
let worker: WorkerProcess;
let sshd: TestSshd;
const stateDir = mkdtempSync(join(tmpdir(), "lr-state-"));

beforeAll(async () => {
  stack = await startStack({
    simSeed: 21,
    env: {
      WORKER_QUEUES: "send,reports,housekeeping",
      STATE_DIR: stateDir,
      LUXSCI_MAX_JOBS_WAIT_MS: "300",
      EXPORT_POLL_MS: "100",
    },
    sim: {
      exportStepMs: { submittedMs: 50, preparingMs: 50, runningMs: 100 },
      eventRates: { hardFail: 0.04, spam: 0.02, fbl: 0.02, unsubscribe: 0.03 },
    },
  });
  sync = createSyncRuntime(stack.config, stack.logger);
  worker = await startWorkers(stack.config, stack.logger);
  sshd = await startSshd();
}, 120_000);

afterAll(async () => {
  await worker?.stop();
  await sync?.close();
  await sshd?.stop();
  await stack?.close();
});

async function sendTo(count: number, start: number, channel: Record<string, unknown> = {}) {
  const fixture = await createOfferFixture(stack, {
    variants: [
      { key: "a", subject: "Hi {{ first_name }}", html: "<p>{{ first_name }}</p>", text: "x" },
    ],
    channel,
  });
  const contacts = makeContacts(count, ["a"], start);
  const path = writeCsv(contacts);
  const execution = await createExecution(stack.deps, {
    offerId: fixture.offerId,
    channelId: fixture.channelId,
    audience: { type: "file", path, format: "csv" },
  });
  expect(await waitForExecution(stack, execution.id)).toBe("completed");
  return { fixture, contacts, path, execution };
}

describe("inbound sync", () => {
  it("API mode imports exactly the simulator's events; again adds nothing; suppressions apply next time", async () => {
    const { fixture, path, execution } = await sendTo(10_000, 1);
    stack.sim.settleEvents();
    const expected = await simulatorReportTotals(stack, fixture.channelId);
    expect(expected.sent).toBe(10_000);
    expect(expected.fbl).toBeGreaterThan(0);

    const first = await runChannelSync(sync.deps, fixture.channelId);
    expect(first.mode).toBe("api");
    expect(await storedTotals(stack, fixture.channelId)).toEqual(expected);
    const watermarks = await stack.deps.prisma.syncWatermark.findMany({
      where: { channelId: fixture.channelId },
    });
    expect(watermarks.map((w) => w.reportType).sort()).toEqual([
      "clicks",
      "delivery",
      "fbl",
      "opens",
      "sent",
    ]);

    const again = await runChannelSync(sync.deps, fixture.channelId);
    if (again.mode !== "api") throw new Error("expected an API sync");
    expect(again.result.kinds.reduce((n, k) => n + k.inserted, 0)).toBe(0);
    expect(await storedTotals(stack, fixture.channelId)).toEqual(expected);

    // Offer history: every recipient has a row; HardFail ones ended hard_fail.
    const history = await stack.deps.pool.query<{ state: string; n: string }>(
      "SELECT state, count(*) AS n FROM offer_history WHERE execution_id = $1 GROUP BY state",
      [execution.id],
    );
    const states = Object.fromEntries(history.rows.map((r) => [r.state, Number(r.n)]));
    expect(Object.values(states).reduce((a, b) => a + b, 0)).toBe(10_000);
    expect(states.hard_fail).toBeGreaterThan(0);

    // LuxSci's suppression list landed; hard fails, spam and complaints are suppressed.
    const client = new LuxSciClient({
      baseUrl: stack.sim.url,
      user: ACCOUNT.user,
      token: ACCOUNT.token,
      secret: ACCOUNT.secret,
    });
    const listed = await client.getSuppressions();
    await client.close();
    const fromList = await stack.deps.prisma.suppression.count({
      where: { source: "luxsci_list" },
    });
    expect(fromList).toBe(listed.length);
    const suppressed = await stack.deps.pool.query<{ n: string }>(
      `SELECT count(DISTINCT s.email) AS n FROM suppression s
       JOIN recipient r ON r.email = s.email AND r.execution_id = $1`,
      [execution.id],
    );
    const bounced = await stack.deps.pool.query<{ n: string }>(
      "SELECT count(DISTINCT email) AS n FROM email_event WHERE execution_id = $1 AND type IN ('hard_fail', 'spam')",
      [execution.id],
    );
    expect(Number(bounced.rows[0]?.n)).toBeGreaterThan(0);
    const next = await createExecution(stack.deps, {
      offerId: fixture.offerId,
      channelId: fixture.channelId,
      audience: { type: "file", path, format: "csv" },
    });
    expect(await waitForExecution(stack, next.id)).toBe("completed");
    const status = await getExecutionStatus(stack.deps, next.id);
    expect(status.audience.suppressed).toBe(Number(suppressed.rows[0]?.n));
    expect(status.audience.suppressed).toBeGreaterThanOrEqual(Number(bounced.rows[0]?.n));
  }, 90_000);

  it("export mode: three channels at once stay under max_jobs, files are imported and deleted", async () => {
    const sftp = {
      ...exportModeChannel(stack, sshd),
      // The wait for a free LuxSci slot is 0.3 s here (60 s in production): allow many.
      asyncReportRetries: 100,
    };
    const sends = [];
    for (let i = 0; i < 3; i++) sends.push(await sendTo(800, 100_000 + i * 1000, sftp));
    stack.sim.settleEvents();
    const runs = await Promise.all(
      sends.map(({ fixture }) => runChannelSync(sync.deps, fixture.channelId)),
    );
    expect(runs.every((run) => run.mode === "export")).toBe(true);

    const deadline = Date.now() + 60_000;
    let jobs = await stack.deps.prisma.exportJob.findMany();
    while (
      jobs.some((job) => !["imported", "failed"].includes(job.state)) &&
      Date.now() < deadline
    ) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      jobs = await stack.deps.prisma.exportJob.findMany();
    }
    expect(jobs).toHaveLength(15);
    expect(jobs.filter((job) => job.state !== "imported")).toEqual([]);
    // Two slots at LuxSci for fifteen exports: some had to wait for a slot, and got one.
    expect(jobs.some((job) => job.slotAttempts > 0)).toBe(true);
    for (const { fixture } of sends) {
      expect(await storedTotals(stack, fixture.channelId)).toEqual(
        await simulatorReportTotals(stack, fixture.channelId),
      );
    }
    // Deleted at the destination and locally.
    expect(readdirSync(sshd.root).filter((name) => name.endsWith(".csv"))).toEqual([]);
    const local = join(stateDir, "reports");
    const leftovers = readdirSync(local, { recursive: true }).filter((name) =>
      String(name).endsWith(".csv"),
    );
    expect(leftovers).toEqual([]);
  });

  it("a refusal for max jobs is retried after the wait up to the channel's limit, then fails clearly", async () => {
    // A LuxSci whose exports take long: two started by someone else hold both slots.
    const busy = await startSimulator({
      seed: 5,
      accounts: [ACCOUNT],
      exportStepMs: { submittedMs: 30_000, preparingMs: 30_000, runningMs: 30_000 },
    });
    try {
      const other = new LuxSciClient({
        baseUrl: busy.url,
        user: ACCOUNT.user,
        token: ACCOUNT.token,
        secret: ACCOUNT.secret,
      });
      const destination = {
        host: sshd.host,
        port: sshd.port,
        user: sshd.username,
        password: sshd.password,
        directory: ".",
      };
      await other.requestExport("sent", {}, destination);
      await other.requestExport("sent", {}, destination);
      await other.close();
      const fixture = await createOfferFixture(stack, {
        variants: [{ key: "a", subject: "s", html: "<p>x</p>", text: "x" }],
        channel: {
          apiUrl: busy.url,
          ...exportModeChannel(stack, sshd),
          asyncReportRetries: 2,
        },
      });
      const [id] = await createExportJobs(sync.deps, fixture.channelId, ["sent"]);
      const steps = [];
      for (let i = 0; i < 3; i++) steps.push(await stepExportJob(sync.deps, id as number));
      expect(steps).toEqual([
        { done: false, waitMs: 300, state: "waiting_slot" },
        { done: false, waitMs: 300, state: "waiting_slot" },
        { done: true, state: "failed" },
      ]);
      const job = await stack.deps.prisma.exportJob.findUniqueOrThrow({
        where: { id: id as number },
      });
      expect(job.error).toMatch(/max export jobs running after 2 waits/);
      expect(job.error).not.toContain(sshd.password);
    } finally {
      await busy.close();
    }
  });

  it("scheduled syncs and housekeeping keep only a bounded number of finished jobs", async () => {
    const fixture = await createOfferFixture(stack, {
      variants: [{ key: "a", subject: "s", html: "<p>x</p>", text: "x" }],
      channel: { syncEnabled: true, syncIntervalSeconds: 3600 },
    });
    await scheduleChannelSyncs(sync.deps);
    const scheduler = await sync.deps.queues.reports.getJobScheduler(`sync-${fixture.channelId}`);
    expect(scheduler?.template?.opts).toMatchObject({
      removeOnComplete: { count: 50 },
      removeOnFail: { count: 50 },
    });
    const housekeeping = new Queue(QUEUE_NAMES.housekeeping, {
      connection: stack.queues.connection,
      prefix: stack.queues.prefix,
    });
    try {
      const reconcile = (
        await housekeeping.getJobs(["completed", "waiting", "active", "delayed"])
      ).find((job) => job.id?.startsWith("reconcile-"));
      expect(reconcile?.opts).toMatchObject({ removeOnComplete: { count: 100 } });
      const sweep = await housekeeping.getJobScheduler("sweep-report-files");
      expect(sweep?.template?.opts).toMatchObject({ removeOnComplete: { count: 100 } });
    } finally {
      await housekeeping.close();
    }
  });
});
