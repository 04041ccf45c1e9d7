import { rm } from "node:fs/promises";
import { join } from "node:path";
import { decryptSecret } from "@luxrelay/db";
import { LuxSciMaxJobsError, type ReportKind } from "@luxrelay/luxsci";
import { applyNewEvents, publishNewEvents } from "../apply/apply-events.ts";
import type { SyncDeps } from "../context.ts";
import { readReportCsv } from "../import/csv.ts";
import { importReportRows } from "../import/import-rows.ts";
import { IMPORTED_COLUMNS } from "../import/map-row.ts";
import { channelTimezone, chidFilter, loadChannel } from "./channel.ts";
import { downloadAndDelete } from "./sftp.ts";
import { sweepReportFiles } from "./sweep.ts";
import { advanceWatermark, queryStart } from "./watermark.ts";

// Seed 000 inbound steps 2-7, the bulk path: one export per report, as a job that moves
// through its states in steps. Waiting (for a free LuxSci job slot, for the export to finish)
// is a delayed job, never a sleeping worker: the step returns "wait" and the worker puts the
// job back. The export_job row holds the state, so any worker can take the next step.

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
    const afterDate = await queryStart(deps, channelId, kind, timezone);
    const row = await deps.prisma.exportJob.create({
      data: { channelId, reportType: kind, afterDate },
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
  const client = deps.luxsci(channel);
  const kind = job.reportType as ReportKind;
  const log = deps.logger.child({ exportJobId, channelId: channel.id, kind });
  if (!channel.sftpHost || !channel.sftpUser || !channel.sftpPasswordEnc) {
    return fail(
      deps,
      job.id,
      "the channel has no SFTP destination (sftpHost, sftpUser, sftpPassword)",
    );
  }
  const location = {
    host: channel.sftpHost,
    port: channel.sftpPort,
    user: channel.sftpUser,
    password: decryptSecret(channel.sftpPasswordEnc, deps.secretKey),
    directory: channel.sftpDirectory ?? ".",
  };

  switch (job.state) {
    case "requested":
    case "waiting_slot": {
      try {
        const created = await client.requestExport(
          kind,
          { afterDate: job.afterDate, header1: chidFilter(channel.id), matches: undefined },
          location,
        );
        await deps.prisma.exportJob.update({
          where: { id: job.id },
          data: { state: "running", luxsciJobId: created.jobId, filename: created.filename },
        });
        log.info(
          { luxsciJobId: created.jobId, currentJobs: created.currentJobs },
          "export requested",
        );
        return { done: false, waitMs: deps.settings.exportPollMs, state: "running" };
      } catch (error) {
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
      await downloadAndDelete(location, job.filename as string, localPathOf(deps, job));
      await deps.prisma.exportJob.update({ where: { id: job.id }, data: { state: "downloaded" } });
      return stepExportJob(deps, exportJobId);
    }
    case "downloaded": {
      const path = localPathOf(deps, job);
      const imported = await importReportRows(deps, {
        channelId: channel.id,
        kind,
        rows: readReportCsv(path, { columns: IMPORTED_COLUMNS }),
        source: `file ${job.filename}`,
        timezone: channelTimezone(channel),
      });
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
      if (imported.maxOccurredAt)
        await advanceWatermark(deps, channel.id, kind, imported.maxOccurredAt);
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
