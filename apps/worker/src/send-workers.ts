import type { Config } from "@luxrelay/config";
import {
  channelThrottle,
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
import { DelayedError, type Job, Worker } from "bullmq";
import { lockRenewer, parsePayload } from "./payload.ts";

// The `send` role: plan, send and finalize workers. Each processor parses its payload at the
// door and calls one service function; BullMQ and Redis specifics (a delayed retry that uses
// no attempt, the per-channel holds) are handed to the service as a small control object.

/** Whether a failure of this run is the job's last (no retry follows). */
function isLastAttempt(job: Job): boolean {
  return job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
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
  const throttle = channelThrottle(limiterRedis, config.queuePrefix);

  const plan = new Worker(
    QUEUE_NAMES.plan,
    async (job) =>
      planExecution(deps, parsePayload(ZPlanPayload, job).executionId, {
        lastAttempt: isLastAttempt(job),
      }),
    { ...options, connection: connection(), concurrency: 2 },
  );
  const send = new Worker(
    QUEUE_NAMES.send,
    async (job, token) => {
      const control: SendJobControl = {
        attemptsMade: job.attemptsMade,
        attempts: job.opts.attempts ?? 1,
        async delay(ms) {
          await job.moveToDelayed(Date.now() + ms, token);
          return new DelayedError();
        },
        channelWait: throttle.waitForRate,
        channelPausedFor: throttle.pausedFor,
        pauseChannel: throttle.pause,
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
    async (job) =>
      finalizeExecution(deps, parsePayload(ZFinalizePayload, job), {
        lastAttempt: isLastAttempt(job),
      }),
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
