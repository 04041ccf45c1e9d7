import type { Config } from "@luxrelay/config";
import {
  createRedisConnection,
  QUEUE_NAMES,
  ZFinalizePayload,
  ZPlanPayload,
  ZSendBatchPayload,
} from "@luxrelay/jobs";
import type { Logger } from "@luxrelay/logger";
import {
  finalizeExecution,
  type OutboundDeps,
  planExecution,
  type SendJobControl,
  sendBatch,
} from "@luxrelay/outbound";
import { DelayedError, Worker } from "bullmq";
import type { Redis } from "ioredis";
import { lockRenewer, parsePayload } from "./payload.ts";

// The `send` role (DESIGN "Outbound"): plan, send and finalize workers. Each processor parses
// its payload at the door and calls one service function; BullMQ specifics (rate limit,
// delayed retry) are handed to the service as a small control object.

/** A fixed one-minute window per channel in Redis: how long to wait before one more call. */
export function channelWaiter(redis: Redis, prefix: string) {
  return async (channelId: string, perMinute: number): Promise<number> => {
    const minute = Math.floor(Date.now() / 60_000);
    const key = `${prefix}:ratelimit:${channelId}:${minute}`;
    const [[, count]] = (await redis.multi().incr(key).expire(key, 120).exec()) as [[null, number]];
    return count > perMinute ? (minute + 1) * 60_000 - Date.now() + 50 : 0;
  };
}

export async function startSendWorkers(
  deps: OutboundDeps,
  config: Config,
  logger: Logger,
): Promise<Worker[]> {
  const connection = () =>
    createRedisConnection({ redisUrl: config.redisUrl, connectionName: "luxrelay-worker" });
  const options = {
    prefix: config.queuePrefix,
    lockDuration: config.worker.lockMs,
    stalledInterval: config.worker.stalledIntervalMs,
    maxStalledCount: config.worker.maxStalled,
  };
  const limiterRedis = createRedisConnection({ redisUrl: config.redisUrl });
  const channelWait = channelWaiter(limiterRedis, config.queuePrefix);

  const plan = new Worker(
    QUEUE_NAMES.plan,
    async (job) => planExecution(deps, parsePayload(ZPlanPayload, job).executionId),
    { ...options, connection: connection(), concurrency: 2 },
  );
  const send: Worker = new Worker(
    QUEUE_NAMES.send,
    async (job, token) => {
      const control: SendJobControl = {
        attemptsMade: job.attemptsMade,
        attempts: job.opts.attempts ?? 1,
        async rateLimit(ms) {
          await send.rateLimit(ms);
          return Worker.RateLimitError();
        },
        async delay(ms) {
          await job.moveToDelayed(Date.now() + ms, token);
          return new DelayedError();
        },
        channelWait,
        ownsLock: lockRenewer(job, token, config.worker.lockMs),
      };
      return sendBatch(deps, parsePayload(ZSendBatchPayload, job), control);
    },
    {
      ...options,
      connection: connection(),
      concurrency: config.worker.concurrency.send,
    },
  );
  await deps.queues.send.setGlobalConcurrency(config.worker.sendGlobalConcurrency);
  const finalize = new Worker(
    QUEUE_NAMES.finalize,
    async (job) => finalizeExecution(deps, parsePayload(ZFinalizePayload, job)),
    { ...options, connection: connection(), concurrency: 2 },
  );
  const workers = [plan, send, finalize];
  for (const worker of workers) {
    worker.on("failed", (job, error) => {
      logger.warn(
        { queue: worker.name, jobId: job?.id, attemptsMade: job?.attemptsMade, err: error.message },
        "job failed",
      );
    });
    worker.on("error", (error) =>
      logger.error({ queue: worker.name, err: error.message }, "worker error"),
    );
    worker.on("closed", () => {
      if (worker === finalize) void limiterRedis.quit();
    });
  }
  return workers;
}
