import { existsSync, mkdtempSync, readdirSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { JOB_NAMES, jobId, QUEUE_NAMES } from "@luxrelay/jobs";
import { LuxSciClient, type ReportKind } from "@luxrelay/luxsci";
import { createExecution } from "@luxrelay/outbound";
import { startSshd, type TestSshd } from "@luxrelay/testkit";
import { Queue } from "bullmq";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeContacts, writeCsv } from "../helpers/audience.ts";
import { controlSshd, type SshdControl } from "../helpers/sshd-control.ts";
import {
  ACCOUNT,
  createOfferFixture,
  exportModeChannel,
  type Stack,
  startStack,
  waitForExecution,
} from "../helpers/stack.ts";
import {
  compareEventRows,
  EVENT_TYPES_OF,
  simulatorReportTotals,
  storedTotals,
} from "../helpers/sync.ts";
import { spawnWorker, type WorkerChild } from "../helpers/worker-process.ts";
import { recordFigures, sleep } from "./helpers.ts";

// Chaos: export mode (packages/inbound README, "Report files: whole or not at all") against
// a real sshd of the test's own that fails under the download: it crashes mid-download and
// comes back on the same port, its session is killed mid-file, and it refuses deletes. A
// worker process (send and reports roles) sends a 30,000-recipient execution and runs the
// sync; each scenario ends with the simulator's report rows and the stored events compared row
// by row (none lost, none twice), and a second export set that adds nothing.
//
// LuxSci (the simulator) runs all five exports of a set at once, and the crash waits until
// it has uploaded them all: the faults hit luxrelay's downloads, not LuxSci's uploads (an
// upload that fails fails its export, which the next set exports again: another story).

const RECIPIENTS = 30_000;
/** A download is cut only once this much of a file is on its way: it is mid-file. */
const MIN_CUT_FILE_BYTES = 2_000_000;
const stateDir = mkdtempSync(join(tmpdir(), "lr-chaos-sftp-state-"));

let stack: Stack;
let reports: Queue;
let exportsQueue: Queue;

beforeAll(async () => {
  stack = await startStack({
    simSeed: 103,
    keepMergedMessages: 0,
    sim: { maxJobs: 5, exportStepMs: { submittedMs: 50, preparingMs: 50, runningMs: 100 } },
    env: {
      WORKER_QUEUES: "send,reports",
      STATE_DIR: stateDir,
      EXPORT_POLL_MS: "3000",
      LUXSCI_MAX_EXPORT_JOBS: "5",
      LUXSCI_MAX_JOBS_WAIT_MS: "300",
      WORKER_CONCURRENCY_REPORTS: "5",
      LOG_LEVEL: "warn",
    },
  });
  const queue = (name: string) =>
    new Queue(name, { connection: stack.queues.connection, prefix: stack.queues.prefix });
  reports = queue(QUEUE_NAMES.reports);
  exportsQueue = queue(QUEUE_NAMES.exports);
});

afterAll(async () => {
  await reports?.close();
  await exportsQueue?.close();
  await stack?.close();
});

interface Scenario {
  sshd: TestSshd;
  control: SshdControl;
  worker: WorkerChild;
  channelId: string;
  /** Rows of the simulator's reports for the channel, per report. */
  expected: Awaited<ReturnType<typeof simulatorReportTotals>>;
  started: number;
}

/**
 * A sshd, a worker process, and a channel in export mode with an execution sent and settled.
 * Each scenario sends to addresses of its own (`start`): an earlier one's bounces and
 * complaints, once imported, suppress its addresses.
 */
async function prepare(start: number): Promise<Scenario> {
  const started = Date.now();
  const sshd = await startSshd();
  const worker = spawnWorker(stack.env);
  try {
    const fixture = await createOfferFixture(stack, {
      variants: [
        { key: "a", subject: "Hi {{ first_name }}", html: "<p>{{ city }}</p>", text: "x" },
      ],
      channel: {
        syncEnabled: false,
        ...exportModeChannel(stack, sshd),
      },
    });
    const execution = await createExecution(stack.deps, {
      offerId: fixture.offerId,
      channelId: fixture.channelId,
      audience: {
        type: "file",
        path: writeCsv(makeContacts(RECIPIENTS, ["a"], start)),
        format: "csv",
      },
    });
    expect(await waitForExecution(stack, execution.id, 120_000)).toBe("completed");
    stack.sim.settleEvents();
    const expected = await simulatorReportTotals(stack, fixture.channelId);
    expect(expected.sent).toBe(RECIPIENTS);
    return {
      sshd,
      control: controlSshd(sshd),
      worker,
      channelId: fixture.channelId,
      expected,
      started,
    };
  } catch (error) {
    await finish({ sshd, worker });
    throw error;
  }
}

async function finish(scenario: Pick<Scenario, "sshd" | "worker">): Promise<void> {
  scenario.worker.child.kill("SIGTERM");
  await scenario.worker.exited;
  await scenario.sshd.stop();
}

/** Runs a sync of the channel through the reports queue; returns the export ids it requested. */
async function requestExportSet(channelId: string, name: string): Promise<number[]> {
  const id = jobId("sync", name);
  await reports.add(JOB_NAMES.sync, { channelId, reason: "manual" }, { jobId: id });
  const deadline = Date.now() + 60_000;
  for (;;) {
    const job = await reports.getJob(id);
    const state = await job?.getState();
    if (state === "completed") {
      // Read again: the job was fetched before the state, maybe before it completed.
      const result = (await reports.getJob(id))?.returnvalue as {
        mode: string;
        exportJobIds?: number[];
      };
      expect(result.mode).toBe("export");
      return result.exportJobIds ?? [];
    }
    if (state === "failed" || Date.now() > deadline) {
      throw new Error(`sync ${id} ${state}: ${job?.failedReason}`);
    }
    await sleep(50);
  }
}

/** Waits for every export of the set to be imported or failed; returns their rows. */
async function waitForExportSet(ids: number[], worker: WorkerChild, timeoutMs = 90_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const jobs = await stack.deps.prisma.exportJob.findMany({
      where: { id: { in: ids } },
      orderBy: { id: "asc" },
    });
    if (jobs.every((job) => job.state === "imported" || job.state === "failed")) return jobs;
    if (Date.now() > deadline || worker.child.exitCode !== null || worker.child.signalCode) {
      console.log(worker.output().slice(-6000));
      throw new Error(
        `exports not done (worker ${worker.child.exitCode ?? worker.child.signalCode ?? "up"}): ${JSON.stringify(jobs.map((job) => [job.reportType, job.state]))}`,
      );
    }
    await sleep(100);
  }
}

/** Events stored from one report of the channel (a delivery row may add an unsubscribe). */
async function storedOfReport(channelId: string, kind: ReportKind): Promise<number> {
  const types = [...EVENT_TYPES_OF[kind], ...(kind === "delivery" ? ["unsubscribed"] : [])];
  const { rows } = await stack.deps.pool.query<{ n: string }>(
    "SELECT count(*) AS n FROM email_event WHERE channel_id = $1 AND type::text = ANY($2)",
    [channelId, types],
  );
  return Number(rows[0]?.n);
}

/** The failures an export's step job went through (BullMQ keeps each attempt's stack). */
async function stepFailures(exportJobId: number): Promise<string[]> {
  const job = await exportsQueue.getJob(jobId("export", exportJobId));
  return (job?.stacktrace ?? []).map((stack) => stack.split("\n")[0] as string);
}

interface CutPoint {
  exportJobId: number;
  /** What the worker had of the file, and the file's size on the server, at the cut. */
  partBytes: number;
  remoteBytes: number;
}

/**
 * Polls the worker's report folder until a download of a big file is under way (its `.part`
 * holds some bytes, and less than half of the server's file) while `when()` holds, then runs
 * `cut` at once; returns where the download was.
 */
async function cutMidDownload(
  scenario: Scenario,
  cut: () => void,
  when: () => boolean = () => true,
  timeoutMs = 60_000,
): Promise<CutPoint> {
  const local = join(stateDir, "reports", scenario.channelId);
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const parts = existsSync(local) ? readdirSync(local).filter((n) => n.endsWith(".part")) : [];
    for (const part of parts) {
      // `<export id>-<LuxSci's file name>.part`
      const match = /^(\d+)-(.+)\.part$/.exec(part);
      if (!match || !when()) continue;
      const remoteBytes = sizeOf(join(scenario.sshd.root, match[2] as string));
      const partBytes = sizeOf(join(local, part));
      if (remoteBytes === null || partBytes === null || remoteBytes < MIN_CUT_FILE_BYTES) continue;
      if (partBytes > 0 && partBytes < remoteBytes / 2) {
        cut();
        return { exportJobId: Number(match[1]), partBytes, remoteBytes };
      }
    }
    await sleep(2);
  }
  throw new Error("no download of a big report file seen under way");
}

function sizeOf(path: string): number | null {
  try {
    return statSync(path).size;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw error;
  }
}

/** Watches LuxSci's /jobs: `done()` turns true once every export is uploaded (complete). */
function watchLuxSciUploads() {
  const client = new LuxSciClient({
    baseUrl: stack.sim.url,
    user: ACCOUNT.user,
    token: ACCOUNT.token,
    secret: ACCOUNT.secret,
  });
  let done = false;
  let stopped = false;
  const uploaded = async () => (await client.listJobs()).every((job) => job.status === "complete");
  const loop = (async () => {
    while (!stopped && !done) {
      done = await uploaded();
      if (!done) await sleep(50);
    }
  })();
  return {
    done: () => done,
    /** Stops watching; whether every export is still complete (none failed meanwhile). */
    async stop(): Promise<boolean> {
      stopped = true;
      await loop;
      try {
        return await uploaded();
      } finally {
        await client.close();
      }
    },
  };
}

/** Waits until `path` is gone (the worker removed a cut download); false on timeout. */
async function waitUntilGone(path: string, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (existsSync(path)) {
    if (Date.now() > deadline) return false;
    await sleep(5);
  }
  return true;
}

/**
 * The promise, checked: every row of the simulator's reports stored once (row by row and in
 * sums), the local report folder empty, and a second export set imports nothing.
 */
async function expectEveryRowOnce(scenario: Scenario, name: string) {
  const compared = await compareEventRows(stack, scenario.channelId);
  expect(compared).toMatchObject({ lost: 0, duplicates: 0 });
  expect(compared.storedEvents).toBe(compared.simulatorRows);
  expect(await storedTotals(stack, scenario.channelId)).toEqual(scenario.expected);
  const leftovers = readdirSync(join(stateDir, "reports", scenario.channelId));
  expect(leftovers).toEqual([]);
  // Again: the next set exports the same rows (the overlap before the watermarks), adds nothing.
  const again = await waitForExportSet(
    await requestExportSet(scenario.channelId, `${name}-again`),
    scenario.worker,
  );
  expect(again.map((job) => job.state)).toEqual(Array(5).fill("imported"));
  expect(again.reduce((n, job) => n + (job.importedRows ?? 0), 0)).toBe(0);
  expect(await storedTotals(stack, scenario.channelId)).toEqual(scenario.expected);
  return compared;
}

describe("chaos: SFTP trouble in export mode", () => {
  it("the SFTP server crashes mid-download and comes back on the same port: the export steps retry, every row once", async () => {
    const scenario = await prepare(1_000_000);
    try {
      const ids = await requestExportSet(scenario.channelId, "sftp-crash");
      // Only once LuxSci has uploaded every file: its uploads must not meet the outage.
      const uploads = watchLuxSciUploads();
      let crashedProcesses = 0;
      const cut = await cutMidDownload(
        scenario,
        () => {
          crashedProcesses = scenario.control.crash();
        },
        uploads.done,
      );
      const downAt = Date.now();
      const uploadsDone = await uploads.stop();
      // Down long enough for the first retry (5 s backoff) to find the port closed.
      await sleep(8_000);
      await scenario.control.start();
      const jobs = await waitForExportSet(ids, scenario.worker);
      const recoveredS = (Date.now() - downAt) / 1000;
      expect(uploadsDone).toBe(true);
      expect(crashedProcesses).toBeGreaterThan(1);
      expect(cut.partBytes).toBeLessThan(cut.remoteBytes);
      expect(jobs.map((job) => job.state)).toEqual(Array(5).fill("imported"));
      // The cut download failed, a retry met the server down, a later one downloaded it whole.
      const failures = await stepFailures(cut.exportJobId);
      expect(failures.length).toBeGreaterThanOrEqual(2);
      expect(failures[0]).toMatch(/SftpError: SFTP (download|stat) of .* (failed|incomplete)/);
      expect(failures.slice(1).join("\n")).toMatch(/SftpError: SFTP connection for .* failed/);
      const cutJob = jobs.find((job) => job.id === cut.exportJobId);
      const cutKind = cutJob?.reportType as ReportKind;
      expect(cutJob?.completedRows).toBe(scenario.expected[cutKind]);
      expect(cutJob?.importedRows).toBe(await storedOfReport(scenario.channelId, cutKind));
      const compared = await expectEveryRowOnce(scenario, "sftp-crash");
      // The files were deleted on the server once downloaded.
      expect(readdirSync(scenario.sshd.root).filter((n) => n.endsWith(".csv"))).toEqual([]);
      recordFigures({
        scenario: "SFTP server crashed mid-download, restarted on the same port (export mode)",
        injected: `sshd and its sessions SIGKILLed with ${cut.partBytes} of ${cut.remoteBytes} bytes of the ${cutJob?.reportType} file downloaded; down 8 s; the cut step failed ${failures.length}x, imported ${Math.round(recoveredS)} s after`,
        recipients: RECIPIENTS,
        duplicates: compared.duplicates,
        lost: compared.lost,
        status: "sync completed",
        retriedBatches: 0,
        seconds: Math.round((Date.now() - scenario.started) / 1000),
        notes: `${compared.storedEvents} events stored = ${compared.simulatorRows} simulator rows, row by row: ${JSON.stringify(scenario.expected)}`,
      });
    } finally {
      await finish(scenario);
    }
  }, 180_000);

  it("a download cut mid-file (the worker's SFTP sessions killed): nothing of the file is imported, the retry imports it whole, once", async () => {
    const scenario = await prepare(2_000_000);
    try {
      const ids = await requestExportSet(scenario.channelId, "sftp-cut");
      const pid = scenario.worker.child.pid as number;
      let killed = 0;
      const cut = await cutMidDownload(scenario, () => {
        killed = scenario.control.killSessionsOf(pid);
      });
      const cutAt = Date.now();
      const before = await stack.deps.prisma.exportJob.findUniqueOrThrow({
        where: { id: cut.exportJobId },
      });
      const kind = before.reportType;
      // Before the retry (5 s backoff): the half file is removed, never renamed to the name the
      // import reads, and nothing of its report is stored.
      const local = join(stateDir, "reports", scenario.channelId);
      const partGone = await waitUntilGone(
        join(local, `${before.id}-${before.filename}.part`),
        3_000,
      );
      const afterCut = {
        state: (await stack.deps.prisma.exportJob.findUniqueOrThrow({ where: { id: before.id } }))
          .state,
        files: readdirSync(local).filter((name) => name.startsWith(`${before.id}-`)),
        stored: (await storedTotals(stack, scenario.channelId))[kind],
      };
      const checkedWithinS = (Date.now() - cutAt) / 1000;
      const jobs = await waitForExportSet(ids, scenario.worker);
      expect(killed).toBeGreaterThan(0);
      expect(partGone).toBe(true);
      expect(checkedWithinS).toBeLessThan(4.5);
      expect(afterCut).toEqual({ state: "complete", files: [], stored: 0 });
      expect(jobs.map((job) => job.state)).toEqual(Array(5).fill("imported"));
      // One failed attempt (the cut), then the whole file, imported once.
      const failures = await stepFailures(cut.exportJobId);
      expect(failures).toHaveLength(1);
      expect(failures[0]).toMatch(/SftpError: SFTP (download|stat) of .* (failed|incomplete)/);
      const cutJob = jobs.find((job) => job.id === cut.exportJobId);
      expect(cutJob?.completedRows).toBe(scenario.expected[kind]);
      expect(cutJob?.importedRows).toBe(await storedOfReport(scenario.channelId, kind));
      const compared = await expectEveryRowOnce(scenario, "sftp-cut");
      expect(readdirSync(scenario.sshd.root).filter((n) => n.endsWith(".csv"))).toEqual([]);
      recordFigures({
        scenario: "SFTP download cut mid-file (sshd sessions SIGKILLed; export mode)",
        injected: `the worker's ${killed} sshd session processes SIGKILLed with ${cut.partBytes} of ${cut.remoteBytes} bytes of the ${kind} file downloaded; nothing of it stored ${checkedWithinS.toFixed(1)} s later; retried once`,
        recipients: RECIPIENTS,
        duplicates: compared.duplicates,
        lost: compared.lost,
        status: "sync completed",
        retriedBatches: 0,
        seconds: Math.round((Date.now() - scenario.started) / 1000),
        notes: `${kind}: ${cutJob?.importedRows} rows imported of ${cutJob?.completedRows} LuxSci wrote; ${compared.storedEvents} events stored = ${compared.simulatorRows} simulator rows, row by row: ${JSON.stringify(scenario.expected)}`,
      });
    } finally {
      await finish(scenario);
    }
  }, 180_000);

  it("the SFTP server refuses deletes: every file is imported anyway, the refusal kept on export_job, the sync completes", async () => {
    const scenario = await prepare(3_000_000);
    try {
      // The report folder read-only for the SFTP user as far as deleting goes: internal-sftp
      // answers the SFTP "remove" request "permission denied" (-P remove). A folder chmod-ed
      // read-only (or internal-sftp -R) would refuse LuxSci's uploads too, as the same user:
      // the change would have to race the worker's first look at /jobs.
      await scenario.control.restart({ sftpArgs: ["-P", "remove"] });
      const ids = await requestExportSet(scenario.channelId, "sftp-no-delete");
      const jobs = await waitForExportSet(ids, scenario.worker);
      expect(jobs.map((job) => job.state)).toEqual(Array(5).fill("imported"));
      for (const job of jobs) {
        expect(job.remoteDeleteError).toMatch(/permission denied/i);
        expect(job.remoteDeleteError).not.toContain(scenario.sshd.password);
        expect(job.completedRows).toBe(scenario.expected[job.reportType]);
        expect(job.importedRows).toBe(await storedOfReport(scenario.channelId, job.reportType));
      }
      // The files stay on the server; the worker said why.
      const remote = () => readdirSync(scenario.sshd.root).filter((n) => n.endsWith(".csv"));
      expect(remote().sort()).toEqual(jobs.map((job) => job.filename).sort());
      expect(scenario.worker.output()).toContain("not deleted on the SFTP server");
      const compared = await expectEveryRowOnce(scenario, "sftp-no-delete");
      // The second set's files stayed too, and its refusals were kept as well.
      const all = await stack.deps.prisma.exportJob.findMany({
        where: { channelId: scenario.channelId },
      });
      expect(all).toHaveLength(10);
      expect(all.filter((job) => job.remoteDeleteError === null)).toEqual([]);
      expect(remote()).toHaveLength(10);
      recordFigures({
        scenario: "SFTP server refuses deletes (export mode)",
        injected: "internal-sftp -P remove: every delete answered permission denied, 2 export sets",
        recipients: RECIPIENTS,
        duplicates: compared.duplicates,
        lost: compared.lost,
        status: "sync completed",
        retriedBatches: 0,
        seconds: Math.round((Date.now() - scenario.started) / 1000),
        notes: `10 files imported and left on the server, refusal kept on each export_job; ${compared.storedEvents} events stored = ${compared.simulatorRows} simulator rows, row by row; the second set imported 0`,
      });
    } finally {
      await finish(scenario);
    }
  }, 180_000);
});
