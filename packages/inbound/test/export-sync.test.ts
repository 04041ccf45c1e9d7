import { randomBytes } from "node:crypto";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  writeFileSync,
} from "node:fs";
import { connect, createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { jobId } from "@luxrelay/jobs";
import { REPORT_HEADERS, type Simulator, startSimulator } from "@luxrelay/luxsci-sim";
import { startSshd, type TestSshd } from "@luxrelay/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SyncDeps } from "../src/context.ts";
import { createExportJobs, reportsDir, stepExportJob } from "../src/sync/export-sync.ts";
import { runChannelSync } from "../src/sync/run-sync.ts";
import {
  ACCOUNT,
  type ChannelFixture,
  createChannel,
  type SyncFixture,
  simulatorRows,
  startSyncFixture,
  storedRows,
} from "./fixture.ts";

// Export mode never skips or stalls (seed 000 inbound steps 2-7; a real sshd as the SFTP
// destination, the simulator over HTTP): one export set per channel at a time, a file the
// server won't let us delete still imported, a download cut short or left hanging downloaded
// again (never imported in part), a file LuxSci cut short not imported, and watermarks capped
// at LuxSci's time of the request.

const LAG_MS = 60_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let fx: SyncFixture;
let sim: Simulator;
let sshd: TestSshd;

beforeAll(async () => {
  fx = await startSyncFixture({
    STATE_DIR: mkdtempSync(join(tmpdir(), "lr-state-")),
    LUXSCI_MAX_JOBS_WAIT_MS: "100",
    EXPORT_POLL_MS: "100",
    LUXSCI_REPORT_LAG_MS: String(LAG_MS),
  });
  sim = await startSimulator({
    seed: 17,
    accounts: [ACCOUNT],
    eventDelayScale: 0.001,
    exportStepMs: { submittedMs: 20, preparingMs: 20, runningMs: 40 },
    reportLagMs: LAG_MS,
  });
  sshd = await startSshd();
}, 60_000);

afterAll(async () => {
  await sshd?.stop();
  await sim?.close();
  await fx?.close();
});

function sftpChannel(options: { port?: number; directory?: string; hostKey?: string } = {}) {
  return {
    syncMode: "export" as const,
    sftpHost: sshd.host,
    sftpPort: options.port ?? sshd.port,
    sftpUser: sshd.username,
    sftpPassword: sshd.password,
    sftpDirectory: options.directory ?? ".",
    sftpHostKey: options.hostKey ?? sshd.hostKey,
    asyncReportRetries: 100,
  };
}

/** Steps an export as the exports worker would, the waits shortened, until it is done. */
async function stepUntilDone(deps: SyncDeps, exportJobId: number): Promise<string> {
  for (;;) {
    const step = await stepExportJob(deps, exportJobId);
    if (step.done) return step.state;
    await sleep(Math.min(step.waitMs, 100));
  }
}

async function exportJobs(channelId: string) {
  return fx.deps.prisma.exportJob.findMany({ where: { channelId }, orderBy: { id: "asc" } });
}

/** A sent report as LuxSci exports it (CSV, the report's own header), `count` rows. */
function sentCsv(channel: ChannelFixture, prefix: string, count: number): string {
  const header = REPORT_HEADERS.sent;
  const lines = [header.join(",")];
  for (let i = 0; i < count; i++) {
    const cells: Record<string, string> = {
      date_sent: `2024-06-01 08:${String(Math.floor(i / 60) % 60).padStart(2, "0")}:${String(i % 60).padStart(2, "0")}`,
      to: `${prefix}${i}@example.com`,
      subject: "June Sales, for you",
      sendmail_id: `${prefix.toUpperCase()}${i}`,
      header1: "chid",
      header1_value: channel.chid(`${prefix}${i}`),
    };
    lines.push(
      header
        .map((name) => (name === "subject" ? `"${cells[name]}"` : (cells[name] ?? "")))
        .join(","),
    );
  }
  return `${lines.join("\r\n")}\r\n`;
}

/** An export LuxSci reports complete, its file (written here) waiting on the SFTP server. */
async function completedExport(
  channel: ChannelFixture,
  file: { name: string; directory?: string; content: string; completedRows: number },
) {
  const dir = join(sshd.root, file.directory ?? "");
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, file.name), file.content, { mode: 0o644 });
  return fx.deps.prisma.exportJob.create({
    data: {
      channelId: channel.channelId,
      reportType: "sent",
      afterDate: new Date("2024-05-01T00:00:00Z"),
      state: "complete",
      luxsciJobId: `job-${file.name}`,
      filename: file.name,
      completedRows: file.completedRows,
      expectedRows: file.completedRows,
      luxsciRequestedAt: new Date(),
    },
  });
}

function localPath(job: { id: number; channelId: string; filename: string | null }) {
  return join(reportsDir(fx.deps), job.channelId, `${job.id}-${job.filename}`);
}

async function sentStored(channelId: string): Promise<number> {
  return (await storedRows(fx, channelId)).sent;
}

/**
 * A TCP relay in front of sshd whose next connection fails once `afterBytes` have come from
 * the server: "close" cuts both sides (the server stopped), "hang" stops relaying and leaves
 * the sockets open (the server stopped answering). Later connections pass.
 */
async function startRelay() {
  let next: { mode: "close" | "hang"; afterBytes: number } | null = null;
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const fault = next;
    next = null;
    const upstream = connect(sshd.port, "127.0.0.1");
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on("error", () => socket.destroy());
      socket.on("close", () => sockets.delete(socket));
    }
    client.pipe(upstream);
    let relayed = 0;
    upstream.on("data", (chunk: Buffer) => {
      relayed += chunk.length;
      if (fault && relayed > fault.afterBytes) {
        if (fault.mode === "close") {
          client.destroy();
          upstream.destroy();
        } else {
          client.unpipe(upstream);
          upstream.pause();
        }
        return;
      }
      client.write(chunk);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as { port: number }).port,
    failNext(mode: "close" | "hang", afterBytes: number) {
      next = { mode, afterBytes };
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

describe("export sets", () => {
  it("a sync run requests no exports while the channel's previous ones are under way, and looks after them", async () => {
    const channel = await createChannel(fx, sim.url, sftpChannel());
    sim.seedLedger({ user: ACCOUNT.user, count: 40, chidPrefix: channel.chid("s") });
    sim.settleEvents();
    const first = await runChannelSync(fx.deps, channel.channelId);
    if (first.mode !== "export") throw new Error(`expected exports, got ${first.mode}`);
    expect(first.exportJobIds).toHaveLength(5);

    // The previous run's exports are all under way: nothing is requested, the run says so.
    const second = await runChannelSync(fx.deps, channel.channelId);
    expect(second).toMatchObject({
      mode: "skipped",
      pendingExportJobIds: first.exportJobIds,
      requeuedExportJobIds: [],
    });
    expect(await exportJobs(channel.channelId)).toHaveLength(5);

    // An export whose step job is gone (attempts used up, say) gets a new one.
    const lost = first.exportJobIds[0] as number;
    await (await fx.deps.queues.exports.getJob(jobId("export", lost)))?.remove();
    const third = await runChannelSync(fx.deps, channel.channelId);
    expect(third).toMatchObject({ mode: "skipped", requeuedExportJobIds: [lost] });
    expect(await fx.deps.queues.exports.getJob(jobId("export", lost))).toBeDefined();

    // Once they are imported (stepped here as the exports worker would), the next run exports.
    for (const id of first.exportJobIds) expect(await stepUntilDone(fx.deps, id)).toBe("imported");
    expect(await storedRows(fx, channel.channelId)).toEqual(
      await simulatorRows(sim, channel.channelId),
    );
    const fourth = await runChannelSync(fx.deps, channel.channelId);
    expect(fourth.mode).toBe("export");
    expect(await exportJobs(channel.channelId)).toHaveLength(10);

    // An export that never ends (a LuxSci job stuck) is given up after a day: not a stall.
    if (fourth.mode !== "export") return;
    const [stuck, ...rest] = fourth.exportJobIds as [number, ...number[]];
    await fx.deps.pool.query(
      "UPDATE export_job SET created_at = now() - interval '25 hours' WHERE id = $1",
      [stuck],
    );
    const fifth = await runChannelSync(fx.deps, channel.channelId);
    expect(fifth).toMatchObject({ mode: "skipped", pendingExportJobIds: rest });
    const given = await fx.deps.prisma.exportJob.findUniqueOrThrow({ where: { id: stuck } });
    expect(given).toMatchObject({ state: "failed", error: expect.stringMatching(/given up/) });
    for (const id of rest) await stepUntilDone(fx.deps, id);
  });

  it("caps watermarks at LuxSci's time of the request less the lag: rows dated ahead skip nothing", async () => {
    sim.setReportDisorder({ futureEventRate: 0.3, futureEventMs: 3_600_000 });
    try {
      const channel = await createChannel(fx, sim.url, sftpChannel());
      const exportAll = async () => {
        const run = await runChannelSync(fx.deps, channel.channelId);
        if (run.mode !== "export") throw new Error(`expected exports, got ${run.mode}`);
        for (const id of run.exportJobIds)
          expect(await stepUntilDone(fx.deps, id)).toBe("imported");
      };
      sim.seedLedger({ user: ACCOUNT.user, count: 200, chidPrefix: channel.chid("a") });
      sim.settleEvents();
      await exportAll();
      for (const job of await exportJobs(channel.channelId)) {
        const mark = await fx.deps.prisma.syncWatermark.findUnique({
          where: {
            channelId_reportType: { channelId: channel.channelId, reportType: job.reportType },
          },
        });
        if (!mark) continue;
        expect(job.luxsciRequestedAt).not.toBeNull();
        expect(mark.afterDate.getTime()).toBeLessThanOrEqual(
          (job.luxsciRequestedAt as Date).getTime() - LAG_MS,
        );
      }
      sim.advanceClock(120);
      sim.seedLedger({ user: ACCOUNT.user, count: 200, chidPrefix: channel.chid("b") });
      sim.settleEvents();
      await exportAll();
      expect(await storedRows(fx, channel.channelId)).toEqual(
        await simulatorRows(sim, channel.channelId),
      );
    } finally {
      sim.setReportDisorder({ futureEventRate: 0 });
    }
  });
});

describe("report files on the SFTP server", () => {
  it("a file the server refuses to delete is imported all the same; the refusal is recorded", async () => {
    const channel = await createChannel(fx, sim.url, sftpChannel({ directory: "locked" }));
    // The folder is root's: the SFTP user may read the file in it, not delete it.
    const job = await completedExport(channel, {
      name: "undeletable.csv",
      directory: "locked",
      content: sentCsv(channel, "u", 25),
      completedRows: 25,
    });
    expect(await stepUntilDone(fx.deps, job.id)).toBe("imported");
    const after = await fx.deps.prisma.exportJob.findUniqueOrThrow({ where: { id: job.id } });
    expect(after.remoteDeleteError).toMatch(/permission denied/i);
    expect(after.remoteDeleteError).not.toContain(sshd.password);
    expect(existsSync(join(sshd.root, "locked", "undeletable.csv"))).toBe(true);
    expect(await sentStored(channel.channelId)).toBe(25);
  });

  it("a download cut short leaves nothing to import and is downloaded again", async () => {
    const relay = await startRelay();
    try {
      const channel = await createChannel(fx, sim.url, sftpChannel({ port: relay.port }));
      const job = await completedExport(channel, {
        name: "cut.csv",
        content: sentCsv(channel, "c", 6000),
        completedRows: 6000,
      });
      relay.failNext("close", 200_000);
      await expect(stepExportJob(fx.deps, job.id)).rejects.toThrow(/SFTP/);
      // Nothing under the name the import reads, nor a half file left behind.
      expect(existsSync(localPath(job))).toBe(false);
      expect(readdirSync(join(reportsDir(fx.deps), channel.channelId))).toEqual([]);
      expect((await exportJobs(channel.channelId))[0]?.state).toBe("complete");
      // The retry of the step downloads the whole file again.
      expect(await stepUntilDone(fx.deps, job.id)).toBe("imported");
      expect(await sentStored(channel.channelId)).toBe(6000);
      expect(existsSync(join(sshd.root, "cut.csv"))).toBe(false);
    } finally {
      await relay.close();
    }
  });

  it("a server that stops answering mid-download is given up after the SFTP timeout", async () => {
    const relay = await startRelay();
    try {
      const channel = await createChannel(fx, sim.url, sftpChannel({ port: relay.port }));
      const job = await completedExport(channel, {
        name: "hang.csv",
        content: sentCsv(channel, "h", 6000),
        completedRows: 6000,
      });
      const deps = fx.withSettings({ sftpTimeoutMs: 1_500 });
      relay.failNext("hang", 200_000);
      const started = Date.now();
      const outcome = await Promise.race([
        stepExportJob(deps, job.id).then(
          () => "done",
          (error: Error) => `failed: ${error.message}`,
        ),
        sleep(15_000).then(() => "still hanging after 15 s"),
      ]);
      expect(outcome).toMatch(/^failed: SFTP/);
      expect(Date.now() - started).toBeLessThan(10_000);
      expect(existsSync(localPath(job))).toBe(false);
      expect(await stepUntilDone(deps, job.id)).toBe("imported");
      expect(await sentStored(channel.channelId)).toBe(6000);
    } finally {
      await relay.close();
    }
  }, 40_000);

  it("a file with fewer rows than LuxSci wrote is not imported: the export fails, its rows are exported again", async () => {
    const channel = await createChannel(fx, sim.url, sftpChannel());
    const job = await completedExport(channel, {
      name: "short.csv",
      content: sentCsv(channel, "t", 7),
      completedRows: 10,
    });
    expect(await stepUntilDone(fx.deps, job.id)).toBe("failed");
    const after = await fx.deps.prisma.exportJob.findUniqueOrThrow({ where: { id: job.id } });
    expect(after.error).toMatch(/7 rows, 10 expected/);
    expect(await sentStored(channel.channelId)).toBe(0);
    expect(existsSync(localPath(job))).toBe(false);
    // The watermark did not move: the next export reads these rows again.
    expect(
      await fx.deps.prisma.syncWatermark.count({ where: { channelId: channel.channelId } }),
    ).toBe(0);
  });
});

describe("a file name from LuxSci that leads outside our folders", () => {
  // The SFTP folder is four deep, so that `../../../../victim.csv` leads back to the SFTP user's
  // home on the server (never past it), and the local path `<reports>/<channel>/<id>-<name>` to
  // the state folder, outside the reports folder: where a download would be written, imported
  // and deleted, and the remote file deleted, if the name were ever used as a path.
  const HOSTILE = "../../../../victim.csv";
  const FOLDER = "d1/d2/d3/d4";

  async function waitForFile(path: string): Promise<void> {
    const deadline = Date.now() + 10_000;
    while (!existsSync(path)) {
      if (Date.now() > deadline) throw new Error(`${path} never appeared`);
      await sleep(20);
    }
  }

  it("the export reply's ../ name fails the export with the reason; nothing is written, imported or deleted", async () => {
    const channel = await createChannel(fx, sim.url, sftpChannel({ directory: FOLDER }));
    const outside = join(dirname(reportsDir(fx.deps)), "victim.csv");
    writeFileSync(outside, "not a report\n");
    sim.seedLedger({ user: ACCOUNT.user, count: 5, chidPrefix: channel.chid("v") });
    sim.settleEvents();
    sim.setExportFilename(HOSTILE);
    try {
      const [id] = (await createExportJobs(fx.deps, channel.channelId, ["sent"])) as [number];
      expect(await stepUntilDone(fx.deps, id)).toBe("failed");
      // The file outside the reports folder was neither read as a report nor deleted.
      expect(existsSync(outside)).toBe(true);
      expect(readFileSync(outside, "utf8")).toBe("not a report\n");
      const job = await fx.deps.prisma.exportJob.findUniqueOrThrow({ where: { id } });
      expect(job.error).toMatch(/filename is not a plain file name: \.\.\/\.\.\//);
      expect(job.filename).toBeNull();
      // The simulator, as such a LuxSci would, still uploads its file where the name leads
      // (outside the channel's SFTP folder): it stays there, untouched by further steps.
      const remote = join(sshd.root, "victim.csv");
      await waitForFile(remote);
      expect(await stepExportJob(fx.deps, id)).toEqual({ done: true, state: "failed" });
      expect(existsSync(remote)).toBe(true);
      expect(await sentStored(channel.channelId)).toBe(0);
      expect(
        await fx.deps.prisma.syncWatermark.count({ where: { channelId: channel.channelId } }),
      ).toBe(0);
    } finally {
      sim.setExportFilename(null);
    }
  });

  it("an export row stored with such a name is failed, not downloaded", async () => {
    const channel = await createChannel(fx, sim.url, sftpChannel({ directory: FOLDER }));
    const outside = join(dirname(reportsDir(fx.deps)), "stored.csv");
    writeFileSync(outside, "not a report\n");
    const job = await completedExport(channel, {
      name: "../../../../stored.csv",
      directory: FOLDER,
      content: sentCsv(channel, "w", 3),
      completedRows: 3,
    });
    expect(await stepUntilDone(fx.deps, job.id)).toBe("failed");
    expect(existsSync(join(sshd.root, "stored.csv"))).toBe(true);
    expect(existsSync(outside)).toBe(true);
    expect(readFileSync(outside, "utf8")).toBe("not a report\n");
    const after = await fx.deps.prisma.exportJob.findUniqueOrThrow({ where: { id: job.id } });
    expect(after.error).toMatch(/not a plain file name: not downloaded/);
    expect(await sentStored(channel.channelId)).toBe(0);
  });
});

describe("the SFTP server's host key", () => {
  const otherKey = `SHA256:${randomBytes(32).toString("base64").replace(/=+$/, "")}`;

  it("a server showing another key than the pinned one is refused before logging in", async () => {
    const channel = await createChannel(fx, sim.url, sftpChannel({ hostKey: otherKey }));
    const job = await completedExport(channel, {
      name: "pinned.csv",
      content: sentCsv(channel, "k", 3),
      completedRows: 3,
    });
    expect(await stepUntilDone(fx.deps, job.id)).toBe("failed");
    const after = await fx.deps.prisma.exportJob.findUniqueOrThrow({ where: { id: job.id } });
    expect(after.error).toContain(channel.channelId);
    expect(after.error).toContain(`presented host key ${sshd.hostKey}, not the pinned ${otherKey}`);
    expect(after.error).not.toContain(sshd.password);
    // Nothing downloaded, nothing deleted on the server.
    expect(existsSync(localPath(job))).toBe(false);
    expect(existsSync(join(sshd.root, "pinned.csv"))).toBe(true);
    expect(await sentStored(channel.channelId)).toBe(0);
  });

  it("a channel with no pinned key is not synced by export", async () => {
    const channel = await createChannel(fx, sim.url, { ...sftpChannel(), sftpHostKey: null });
    const job = await completedExport(channel, {
      name: "unpinned.csv",
      content: sentCsv(channel, "u", 3),
      completedRows: 3,
    });
    expect(await stepUntilDone(fx.deps, job.id)).toBe("failed");
    const after = await fx.deps.prisma.exportJob.findUniqueOrThrow({ where: { id: job.id } });
    expect(after.error).toMatch(/has no pinned SFTP host key/);
    expect(existsSync(join(sshd.root, "unpinned.csv"))).toBe(true);
  });
});
