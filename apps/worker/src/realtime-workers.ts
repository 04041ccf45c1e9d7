import type { Config } from "@luxrelay/config";
import { createRedisConnection, QUEUE_NAMES, ZRealtimePayload } from "@luxrelay/jobs";
import type { Logger } from "@luxrelay/logger";
import { LuxSciRateLimitError } from "@luxrelay/luxsci";
import { type OutboundDeps, RealtimeSender } from "@luxrelay/outbound";
import { Worker } from "bullmq";
import { lockRenewer, parsePayload } from "./payload.ts";

// The `realtime` role (DESIGN "Realtime sends"): many realtime jobs held at once, each waiting
// in the micro-batcher for its group's POST. A 429 pauses the queue for its Retry-After and
// puts the waiting jobs back without using an attempt.

export async function startRealtimeWorkers(deps: OutboundDeps, config: Config, logger: Logger) {
  let worker: Worker | undefined;
  const sender = new RealtimeSender(deps, {
    flushMs: config.realtime.flushMs,
    maxBatch: config.realtime.maxBatch,
    rateLimit: async (ms) => {
      logger.warn({ retryAfterMs: ms }, "LuxSci rate limit: realtime queue paused");
      await worker?.rateLimit(ms);
    },
  });
  worker = new Worker(
    QUEUE_NAMES.realtime,
    async (job, token) => {
      try {
        return await sender.send(
          parsePayload(ZRealtimePayload, job),
          new Date(job.timestamp),
          lockRenewer(job, token, config.worker.lockMs),
        );
      } catch (error) {
        if (error instanceof LuxSciRateLimitError) throw Worker.RateLimitError();
        throw error;
      }
    },
    {
      prefix: config.queuePrefix,
      connection: createRedisConnection({
        redisUrl: config.redisUrl,
        connectionName: "luxrelay-worker-realtime",
      }),
      concurrency: config.worker.concurrency.realtime,
      lockDuration: config.worker.lockMs,
      stalledInterval: config.worker.stalledIntervalMs,
      maxStalledCount: config.worker.maxStalled,
    },
  );
  worker.on("failed", (job, error) =>
    logger.warn({ queue: "realtime", jobId: job?.id, err: error.message }, "realtime job failed"),
  );
  worker.on("error", (error) =>
    logger.error({ queue: "realtime", err: error.message }, "worker error"),
  );
  return [worker];
}
