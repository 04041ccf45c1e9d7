import { createLuxSciAdapter } from "@luxrelay/channels";
import type { Config } from "@luxrelay/config";
import { createProcessPools, type DatabasePools } from "@luxrelay/db";
import {
  createFlowProducer,
  createQueue,
  createRedisConnection,
  QUEUE_NAMES,
} from "@luxrelay/jobs";
import type { Logger } from "@luxrelay/logger";
import type { OutboundDeps } from "./context.ts";

// The wiring the producer and the workers share: one Prisma client, one pg pool, one Redis
// connection for queues, the LuxSci client factory. Apps call this once and close() on exit.

export interface OutboundRuntime {
  deps: OutboundDeps;
  close(): Promise<void>;
}

/**
 * The outbound wiring. `pools` are the process's PostgreSQL pools when several runtimes share
 * them (a worker with several roles); without, the runtime makes and closes its own.
 */
export function createOutboundRuntime(
  config: Config,
  logger: Logger,
  pools?: DatabasePools,
): OutboundRuntime {
  const database = pools ?? createProcessPools(config, logger);
  const { prisma, pool } = database;
  const connection = createRedisConnection({
    redisUrl: config.redisUrl,
    connectionName: "luxrelay-outbound",
  });
  const context = { connection, prefix: config.queuePrefix };
  const queues = {
    plan: createQueue(QUEUE_NAMES.plan, context),
    send: createQueue(QUEUE_NAMES.send, context),
    finalize: createQueue(QUEUE_NAMES.finalize, context),
  };
  const flow = createFlowProducer(context);
  const luxsci = createLuxSciAdapter({
    secretKey: config.secretKey,
    previousSecretKeys: config.previousSecretKeys,
    retryBaseMs: config.luxsci.retryBaseMs,
    timeoutMs: config.luxsci.timeoutMs,
    logger,
  });
  const deps: OutboundDeps = {
    prisma,
    pool,
    queues,
    flow,
    logger,
    luxsci,
    stateDir: config.sync.stateDir,
    audience: {
      maxBytes: config.audience.maxBytes,
      maxRecordBytes: config.audience.maxRecordBytes,
      tables: config.audience.tables,
    },
    defaults: { batchSize: config.luxsci.batchSize },
    retryBaseMs: config.luxsci.retryBaseMs,
    settle: { reportLagMs: config.luxsci.reportLagMs, callTimeoutMs: config.luxsci.timeoutMs },
  };
  return {
    deps,
    async close() {
      await Promise.allSettled([
        ...Object.values(queues).map((queue) => queue.close()),
        flow.close(),
        luxsci.close(),
      ]);
      if (!pools) await database.close();
      await connection.quit().catch(() => connection.disconnect());
    },
  };
}
