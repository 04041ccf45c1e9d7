import type { Config } from "@luxrelay/config";
import {
  reportsDir,
  runChannelSync,
  type SyncDeps,
  scheduleChannelSyncs,
  stepExportJob,
  sweepReportFiles,
} from "@luxrelay/inbound";
import {
  createQueue,
  createRedisConnection,
  JOB_NAMES,
  jobId,
  QUEUE_NAMES,
  ZExportStepPayload,
  ZHousekeepingPayload,
  ZSyncPayload,
} from "@luxrelay/jobs";
import type { Logger } from "@luxrelay/logger";
import {
  expireRealtimeTemplates,
  type OutboundDeps,
  reconcileExecutionJobs,
  sweepAudienceFiles,
} from "@luxrelay/outbound";
import { DelayedError, Worker } from "bullmq";
import { parsePayload } from "./payload.ts";

// The `reports` and `housekeeping` roles (docs/architecture.md "Inbound state sync"): a sync run
// per channel on its schedule, the export steps (global concurrency = LuxSci's max_jobs; waits are
// delayed jobs), and the sweeps of old report files and uploaded audiences.

/** How often the reports role re-reads channels to add, change or drop their schedules. */
const SCHEDULE_REFRESH_MS = 60_000;

export async function startSyncWorkers(deps: SyncDeps, config: Config, logger: Logger) {
  const connection = () =>
    createRedisConnection({ redisUrl: config.redisUrl, connectionName: "luxrelay-worker-sync" });
  const options = {
    prefix: config.queuePrefix,
    lockDuration: config.worker.lockMs,
    stalledInterval: config.worker.stalledIntervalMs,
    maxStalledCount: config.worker.maxStalled,
  };
  const reports = new Worker(
    QUEUE_NAMES.reports,
    async (job) => {
      const { channelId } = parsePayload(ZSyncPayload, job);
      return runChannelSync(deps, channelId, {
        runId: job.id,
        progress: (progress) => job.updateProgress(progress),
      });
    },
    { ...options, connection: connection(), concurrency: config.worker.concurrency.reports },
  );
  const exports = new Worker(
    QUEUE_NAMES.exports,
    async (job, token) => {
      const step = await stepExportJob(deps, parsePayload(ZExportStepPayload, job).exportJobId);
      await job.updateProgress({ state: step.state });
      if (!step.done) {
        await job.moveToDelayed(Date.now() + step.waitMs, token);
        throw new DelayedError();
      }
      return step;
    },
    { ...options, connection: connection(), concurrency: config.worker.concurrency.reports },
  );
  await deps.queues.exports.setGlobalConcurrency(config.sync.maxExportJobs);
  const refresh = async () => {
    const scheduled = await scheduleChannelSyncs(deps);
    logger.debug({ scheduled }, "channel sync schedules refreshed");
  };
  await refresh();
  const timer = setInterval(() => {
    refresh().catch((error: Error) =>
      logger.error({ err: error.message }, "schedule refresh failed"),
    );
  }, SCHEDULE_REFRESH_MS);
  reports.on("closed", () => clearInterval(timer));
  return [reports, exports];
}

export async function startHousekeepingWorkers(
  deps: SyncDeps,
  outbound: OutboundDeps,
  config: Config,
  logger: Logger,
) {
  const queue = createQueue(QUEUE_NAMES.housekeeping, {
    connection: deps.redis,
    prefix: config.queuePrefix,
  });
  // Kept in Redis, so re-added every reconcile period rather than once: a Redis that lost its
  // keys gets its schedules back, and a reconcile run per period (the slot's job id makes one
  // run of it across every housekeeping worker).
  const schedule = async () => {
    const hourly = [
      "sweep-report-files",
      "sweep-audience-files",
      "expire-realtime-templates",
    ] as const;
    for (const task of hourly) {
      await queue.upsertJobScheduler(
        task,
        { every: 3_600_000 },
        { name: JOB_NAMES.housekeeping, data: { task }, opts: HOUSEKEEPING_JOB_OPTIONS },
      );
    }
    const slot = Math.floor(Date.now() / config.reconcileIntervalMs);
    await queue.add(
      JOB_NAMES.housekeeping,
      { task: "reconcile" },
      { jobId: jobId("reconcile", slot), ...HOUSEKEEPING_JOB_OPTIONS },
    );
  };
  await schedule();
  const timer = setInterval(() => {
    schedule().catch((error: Error) =>
      logger.error({ err: error.message }, "housekeeping schedule failed"),
    );
  }, config.reconcileIntervalMs);
  const worker = new Worker(
    QUEUE_NAMES.housekeeping,
    async (job) => {
      const { task } = parsePayload(ZHousekeepingPayload, job);
      if (task === "reconcile") return reconcile(deps, outbound, config);
      if (task === "expire-realtime-templates") return expireRealtimeTemplates(outbound);
      if (task === "sweep-audience-files") {
        const removed = await sweepAudienceFiles(outbound, config.audience.retentionDays);
        if (removed.length > 0) logger.info({ removed: removed.length }, "old audiences deleted");
        return { removed: removed.length };
      }
      const removed = await sweepReportFiles(reportsDir(deps), deps.settings.fileRetentionDays);
      return { removed: removed.length };
    },
    {
      prefix: config.queuePrefix,
      connection: createRedisConnection({ redisUrl: config.redisUrl }),
      concurrency: config.worker.concurrency.housekeeping,
    },
  );
  worker.on("closed", () => {
    clearInterval(timer);
    void queue.close();
  });
  return [worker];
}

/** Housekeeping jobs end and go: a few are kept to look at, none pile up. */
const HOUSEKEEPING_JOB_OPTIONS = {
  removeOnComplete: { age: 86_400, count: 100 },
  removeOnFail: { age: 7 * 86_400, count: 100 },
};

/**
 * One reconcile run: the jobs of executions PostgreSQL says are under way, and the queue
 * settings a Redis that lost its keys forgot (global concurrency caps).
 */
async function reconcile(deps: SyncDeps, outbound: OutboundDeps, config: Config) {
  await outbound.queues.send.setGlobalConcurrency(config.worker.sendGlobalConcurrency);
  await deps.queues.exports.setGlobalConcurrency(config.sync.maxExportJobs);
  return reconcileExecutionJobs(outbound);
}
