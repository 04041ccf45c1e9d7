import { isJobLive, JOB_NAMES, jobId, type TExportStepPayload } from "@luxrelay/jobs";
import type { SyncDeps } from "../context.ts";
import { REPORT_KINDS } from "./channel.ts";
import { createExportJobs } from "./export-sync.ts";

// One export set per channel at a time (seed 000 inbound steps 2-3): a sync run in export mode
// requests the channel's exports (one per report) only once every export of its previous run
// is imported or failed. Otherwise runs that come faster than LuxSci exports would pile
// requests up against its max_jobs, and one report's exports could overtake each other.
//
// Waiting must not turn into a stall, so a run that finds exports under way also looks after
// them: one whose step job is gone (its attempts used up while the SFTP server was down, a
// Redis that lost it) gets a new step job, which takes over from the state the export row
// holds; one older than EXPORT_GIVE_UP_MS (a LuxSci job that never ends) is marked failed, and
// its rows are exported again from the same watermark by the next set.

/** An export not imported or failed this long after its request is given up. */
export const EXPORT_GIVE_UP_MS = 24 * 3_600_000;

export type ExportSetStart =
  | { started: true; exportJobIds: number[] }
  | {
      started: false;
      /** The previous run's exports still under way. */
      pendingExportJobIds: number[];
      /** Those of them whose step job was gone, queued again. */
      requeuedExportJobIds: number[];
      /** Exports given up (older than EXPORT_GIVE_UP_MS). */
      abandonedExportJobIds: number[];
    };

/** Queues the next step of an export; `replace`: a failed or finished step job is dropped. */
export async function queueExportStep(
  deps: SyncDeps,
  exportJobId: number,
  options: { replace?: boolean } = {},
): Promise<void> {
  const id = jobId("export", exportJobId);
  if (options.replace) await (await deps.queues.exports.getJob(id))?.remove();
  const data: TExportStepPayload = { exportJobId };
  await deps.queues.exports.add(JOB_NAMES.exportStep, data, {
    jobId: id,
    attempts: 5,
    backoff: { type: "exponential", delay: 5_000 },
    removeOnComplete: { age: 7 * 86_400, count: 1_000 },
    removeOnFail: { age: 7 * 86_400, count: 1_000 },
  });
}

/**
 * Requests a new export of each report of the channel, unless exports of its previous run are
 * still under way: then it requests nothing, re-queues those whose step job is gone and gives
 * up those older than EXPORT_GIVE_UP_MS (PostgreSQL's clock).
 */
export async function startExportSet(deps: SyncDeps, channelId: string): Promise<ExportSetStart> {
  const abandoned = await deps.pool.query<{ id: number }>(
    `UPDATE export_job
        SET state = 'failed', updated_at = now(),
            error = 'given up: not imported ' || $3 || ' hours after its request'
      WHERE channel_id = $1 AND state NOT IN ('imported', 'failed')
        AND created_at < now() - $2::float8 * interval '1 millisecond'
      RETURNING id`,
    [channelId, EXPORT_GIVE_UP_MS, String(EXPORT_GIVE_UP_MS / 3_600_000)],
  );
  const abandonedExportJobIds = abandoned.rows.map((row) => row.id);
  for (const id of abandonedExportJobIds) {
    deps.logger.error({ channelId, exportJobId: id }, "export given up: never finished");
  }
  const pending = await deps.prisma.exportJob.findMany({
    where: { channelId, state: { notIn: ["imported", "failed"] } },
    select: { id: true },
    orderBy: { id: "asc" },
  });
  if (pending.length === 0) {
    const exportJobIds = await createExportJobs(deps, channelId, REPORT_KINDS);
    for (const id of exportJobIds) await queueExportStep(deps, id);
    return { started: true, exportJobIds };
  }
  const requeuedExportJobIds: number[] = [];
  for (const { id } of pending) {
    if (await isJobLive(deps.queues.exports, jobId("export", id))) continue;
    await queueExportStep(deps, id, { replace: true });
    requeuedExportJobIds.push(id);
  }
  return {
    started: false,
    pendingExportJobIds: pending.map((row) => row.id),
    requeuedExportJobIds,
    abandonedExportJobIds,
  };
}
