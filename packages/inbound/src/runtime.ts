import { createLuxSciAdapter, SFTP_TIMEOUT_MS } from "@luxrelay/channels";
import type { Config } from "@luxrelay/config";
import { createProcessPools, type DatabasePools } from "@luxrelay/db";
import { createQueue, createRedisConnection, QUEUE_NAMES } from "@luxrelay/jobs";
import type { Logger } from "@luxrelay/logger";
import type { SyncDeps } from "./context.ts";

// The wiring of the inbound sync, built once by a worker (or a test) from the config.

export interface SyncRuntime {
  deps: SyncDeps;
  close(): Promise<void>;
}

/**
 * `pools` are the process's PostgreSQL pools when several runtimes share them (a worker with
 * several roles: one DATABASE_POOL_MAX budget); without, the runtime makes and closes its own.
 */
export function createSyncRuntime(
  config: Config,
  logger: Logger,
  pools?: DatabasePools,
): SyncRuntime {
  const database = pools ?? createProcessPools(config, logger);
  const { prisma, pool } = database;
  const redis = createRedisConnection({
    redisUrl: config.redisUrl,
    connectionName: "luxrelay-inbound",
  });
  const context = { connection: redis, prefix: config.queuePrefix };
  const queues = {
    reports: createQueue(QUEUE_NAMES.reports, context),
    exports: createQueue(QUEUE_NAMES.exports, context),
  };
  const luxsci = createLuxSciAdapter({
    secretKey: config.secretKey,
    previousSecretKeys: config.previousSecretKeys,
    retryBaseMs: config.luxsci.retryBaseMs,
    timeoutMs: config.luxsci.timeoutMs,
    logger,
  });
  const deps: SyncDeps = {
    prisma,
    pool,
    redis,
    queuePrefix: config.queuePrefix,
    logger,
    queues,
    luxsci,
    secretKey: config.secretKey,
    previousSecretKeys: config.previousSecretKeys,
    settings: {
      stateDir: config.sync.stateDir,
      fileRetentionDays: config.sync.fileRetentionDays,
      maxJobsWaitMs: config.luxsci.maxJobsWaitMs,
      exportPollMs: config.sync.exportPollMs,
      overlapMs: config.sync.overlapSeconds * 1000,
      reportLagMs: config.luxsci.reportLagMs,
      rescanIntervalMs: config.sync.rescanIntervalSeconds * 1000,
      rescanWindowMs: config.sync.rescanWindowSeconds * 1000,
      sftpTimeoutMs: SFTP_TIMEOUT_MS,
      intervalSeconds: config.sync.intervalSeconds,
    },
  };
  return {
    deps,
    async close() {
      await Promise.allSettled([queues.reports.close(), queues.exports.close(), luxsci.close()]);
      if (!pools) await database.close();
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}
