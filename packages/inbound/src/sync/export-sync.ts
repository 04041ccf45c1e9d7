import { access, rm } from "node:fs/promises";
import { join } from "node:path";
import {
  type DownloadedFile,
  downloadReportFile,
  SftpFileMissingError,
  SftpHostKeyError,
} from "@luxrelay/channels";
import { decryptChannelSecret } from "@luxrelay/db";
import {
  isPlainFileName,
  LuxSciMaxJobsError,
  LuxSciRequestError,
  type ReportKind,
} from "@luxrelay/luxsci";
import { applyNewEvents, publishNewEvents } from "../apply/apply-events.ts";
import type { SyncDeps } from "../context.ts";
import { ReportFileError, readReportCsv } from "../import/csv.ts";
import { importReportRows, ReportIncompleteError } from "../import/import-rows.ts";
import { IMPORTED_COLUMNS } from "../import/map-row.ts";
import type { ImportResult } from "../import/types.ts";
import { channelTimezone, chidFilter, loadChannel } from "./channel.ts";
import { sweepReportFiles } from "./sweep.ts";
import { advanceWatermark, planReportRead, watermarkLimit } from "./watermark.ts";

// Seed 000 inbound steps 2-7, the bulk path: one export per report, as a job that moves
// through its states in steps. Waiting (for a free LuxSci job slot, for the export to finish)
// is a delayed job, never a sleeping worker: the step returns "wait" and the worker puts the
// job back. The export_job row holds the state, so any worker can take the next step. A step
// that throws (LuxSci or the SFTP server unreachable, a download cut short) is retried from
// the state it left; one that can never succeed (LuxSci refusing the request or naming the file
// with a folder in it, the file gone, a file cut short at LuxSci) marks the export failed, and
// its rows are exported again by the next sync, from the same watermark. A channel's next
// exports wait for these (export-set.ts).

export type ExportStep =
  | { done: true; state: string }
  | { done: false; waitMs: number; state: string };

/** Creates the export_job rows of one sync run; returns their ids (one per report kind). */
export async function createExportJobs(
  deps: SyncDeps,
  channelId: string,
  kinds: readonly ReportKind[],
): Promise<number[]> {
  const channel = await loadChannel(deps, channelId);
  const timezone = channelTimezone(channel);
  const ids: number[] = [];
  for (const kind of kinds) {
    const { afterDate, rescan } = await planReportRead(deps, channelId, kind, timezone);
    const row = await deps.prisma.exportJob.create({
      data: { channelId, reportType: kind, afterDate, rescan },
    });
    ids.push(row.id);
  }
  return ids;
}

async function fail(deps: SyncDeps, id: number, error: string): Promise<ExportStep> {
  await deps.prisma.exportJob.update({ where: { id }, data: { state: "failed", error } });
  deps.logger.error({ exportJobId: id, err: error }, "export failed");
  return { done: true, state: "failed" };
}

export async function stepExportJob(deps: SyncDeps, exportJobId: number): Promise<ExportStep> {
  const job = await deps.prisma.exportJob.findUniqueOrThrow({ where: { id: exportJobId } });
  const channel = await loadChannel(deps, job.channelId);
  const client = deps.luxsci.client(channel);
  const kind = job.reportType as ReportKind;
  const log = deps.logger.child({ exportJobId, channelId: channel.id, kind });
  if (!channel.sftpHost || !channel.sftpUser || !channel.sftpPasswordEnc) {
    return fail(
      deps,
      job.id,
      "the channel has no SFTP destination (sftpHost, sftpUser, sftpPassword)",
    );
  }
  const channelName = `channel ${channel.name} (${channel.id})`;
  if (!channel.sftpHostKey) {
    // Nothing is downloaded from a server whose key was never pinned (sftp.ts): refused before
    // LuxSci is asked to write there.
    return fail(
      deps,
      job.id,
      `${channelName} has no pinned SFTP host key (sftpHostKey): run its connectivity test (luxrelay channel test) to learn it, or set it`,
    );
  }
  const location = {
    host: channel.sftpHost,
    port: channel.sftpPort,
    user: channel.sftpUser,
    password: decryptChannelSecret("sftpPasswordEnc", channel.sftpPasswordEnc, channel.id, [
      deps.secretKey,
      ...(deps.previousSecretKeys ?? []),
    ]),
    directory: channel.sftpDirectory ?? ".",
    hostKey: channel.sftpHostKey,
  };

  if (
    (job.state === "complete" || job.state === "downloaded") &&
    !isPlainFileName(job.filename ?? "")
  ) {
    // The reply's name is checked when it comes (requestExport); a row stored before that
    // check still never turns into a path on the SFTP server or in the reports folder.
    return fail(
      deps,
      job.id,
      `LuxSci's file name ${JSON.stringify(job.filename)} is not a plain file name: not downloaded`,
    );
  }

  switch (job.state) {
    case "requested":
    case "waiting_slot": {
      try {
        const created = await client.requestExport(
          kind,
          { afterDate: job.afterDate, header1: chidFilter(channel.id), matches: undefined },
          location,
        );
        // The file will hold every row LuxSci shows by now: read its clock at this reply.
        const luxsciRequestedAt = client.serverNow() ?? null;
        await deps.prisma.exportJob.update({
          where: { id: job.id },
          data: {
            state: "running",
            luxsciJobId: created.jobId,
            filename: created.filename,
            luxsciRequestedAt,
          },
        });
        log.info(
          { luxsciJobId: created.jobId, currentJobs: created.currentJobs },
          "export requested",
        );
        return { done: false, waitMs: deps.settings.exportPollMs, state: "running" };
      } catch (error) {
        if (error instanceof LuxSciRequestError) {
          // LuxSci refused the request, or its reply broke the contract (a file name with a
          // folder in it, `../` reaching outside our folders): asking the same again can't
          // help. Nothing was stored; the next sync exports these rows from the same watermark.
          return fail(deps, job.id, error.message);
        }
        if (!(error instanceof LuxSciMaxJobsError)) throw error;
        const attempts = job.slotAttempts + 1;
        if (attempts > channel.asyncReportRetries) {
          return fail(
            deps,
            job.id,
            `LuxSci kept refusing: max export jobs running after ${channel.asyncReportRetries} waits of ${deps.settings.maxJobsWaitMs / 1000} s (async report retry limit)`,
          );
        }
        await deps.prisma.exportJob.update({
          where: { id: job.id },
          data: { state: "waiting_slot", slotAttempts: attempts },
        });
        log.info({ attempts }, "max export jobs running at LuxSci: waiting for a slot");
        return { done: false, waitMs: deps.settings.maxJobsWaitMs, state: "waiting_slot" };
      }
    }
    case "running": {
      const status = (await client.listJobs()).find((entry) => entry.jobId === job.luxsciJobId);
      if (!status) return fail(deps, job.id, `LuxSci job ${job.luxsciJobId} is not in /jobs`);
      await deps.prisma.exportJob.update({
        where: { id: job.id },
        data: { expectedRows: status.expectedRows, completedRows: status.completedRows },
      });
      if (status.status === "failed") {
        return fail(deps, job.id, `LuxSci export failed: ${status.statusDetail ?? "no detail"}`);
      }
      if (status.status !== "complete") {
        return { done: false, waitMs: deps.settings.exportPollMs, state: "running" };
      }
      await deps.prisma.exportJob.update({ where: { id: job.id }, data: { state: "complete" } });
      return stepExportJob(deps, exportJobId);
    }
    case "complete": {
      // Steps 4-5. A download cut short throws (SftpError) and leaves nothing to import: the
      // step is retried and downloads again. Deleting the remote file is best effort.
      let downloaded: DownloadedFile;
      try {
        downloaded = await downloadReportFile(
          location,
          job.filename as string,
          localPathOf(deps, job),
          { timeoutMs: deps.settings.sftpTimeoutMs },
        );
      } catch (error) {
        if (error instanceof SftpFileMissingError) return fail(deps, job.id, error.message);
        // Another key at the channel's address: a server swapped or someone in between. An
        // operator decides; the next sync exports these rows again once the key is settled.
        if (error instanceof SftpHostKeyError) {
          return fail(deps, job.id, `${channelName}: ${error.message}`);
        }
        throw error;
      }
      if (downloaded.deleteError) {
        log.warn(
          { err: downloaded.deleteError },
          "report file downloaded, not deleted on the SFTP server: importing it anyway",
        );
      }
      await deps.prisma.exportJob.update({
        where: { id: job.id },
        data: { state: "downloaded", remoteDeleteError: downloaded.deleteError },
      });
      return stepExportJob(deps, exportJobId);
    }
    case "downloaded": {
      const path = localPathOf(deps, job);
      if (!(await exists(path))) {
        // The local file went (a wiped state folder): download it again if the server has it.
        await deps.prisma.exportJob.update({ where: { id: job.id }, data: { state: "complete" } });
        return stepExportJob(deps, exportJobId);
      }
      let imported: ImportResult;
      try {
        imported = await importReportRows(deps, {
          channelId: channel.id,
          kind,
          rows: readReportCsv(path, { columns: IMPORTED_COLUMNS }),
          source: `file ${job.filename}`,
          timezone: channelTimezone(channel),
          // LuxSci's count of the rows it wrote: a file with fewer was cut short.
          expectedRows: job.completedRows,
        });
      } catch (error) {
        if (!(error instanceof ReportIncompleteError || error instanceof ReportFileError)) {
          throw error;
        }
        // Nothing of the file was stored and the watermark stays: the next sync exports
        // these rows again.
        await rm(path, { force: true });
        return fail(deps, job.id, error.message);
      }
      for (const problem of imported.problems.slice(0, 20))
        log.warn(problem, "report row rejected");
      await deps.prisma.exportJob.update({
        where: { id: job.id },
        data: {
          state: "imported",
          importedRows: imported.inserted,
          rejectedRows: imported.rejected,
          error:
            imported.rejected > 0
              ? `${imported.rejected} rows rejected, e.g. ${JSON.stringify(imported.problems[0])}`
              : null,
        },
      });
      await advanceWatermark(deps, channel.id, kind, {
        newest: imported.maxOccurredAt,
        limit: watermarkLimit(job.luxsciRequestedAt, deps.settings.reportLagMs),
        rescan: job.rescan,
      });
      // Steps 6-7: the local file goes once imported; old leftovers are swept.
      await rm(path, { force: true });
      await sweepReportFiles(reportsDir(deps), deps.settings.fileRetentionDays);
      log.info(
        { inserted: imported.inserted, notOurs: imported.notOurs, rejected: imported.rejected },
        "export imported",
      );
      return stepExportJob(deps, exportJobId);
    }
    case "imported": {
      // Offer history, suppression, engagement and the events stream from the new events
      // (apply/); here too when a retry finds the file imported already, since the step may
      // have died before this. When another export of the channel has its file and is about to
      // import it, that one applies both (one write per recipient, not one per file; it can't
      // be left waiting: its step imports straight on, and is retried if its worker dies);
      // this one's events only go to the stream now.
      if (await anotherImportDue(deps, job)) await publishNewEvents(deps, channel.id);
      else await applyNewEvents(deps, channel.id);
      return { done: true, state: "imported" };
    }
    default:
      return { done: true, state: job.state };
  }
}

/**
 * An export left "downloaded" longer than this is not being imported (its step failed for
 * good): it no longer holds back the apply of the others.
 */
const IMPORT_DUE_MS = 10 * 60_000;

/** Whether another export of the job's channel was downloaded lately and is not imported. */
async function anotherImportDue(
  deps: SyncDeps,
  job: { id: number; channelId: string },
): Promise<boolean> {
  const due = await deps.prisma.exportJob.count({
    where: {
      channelId: job.channelId,
      state: "downloaded",
      id: { not: job.id },
      updatedAt: { gt: new Date(Date.now() - IMPORT_DUE_MS) },
    },
  });
  return due > 0;
}

export function reportsDir(deps: SyncDeps): string {
  return join(deps.settings.stateDir, "reports");
}

function localPathOf(
  deps: SyncDeps,
  job: { channelId: string; filename: string | null; id: number },
): string {
  return join(reportsDir(deps), job.channelId, `${job.id}-${job.filename ?? "export.csv"}`);
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return false;
    throw error;
  }
}
