import type { Config } from "@luxrelay/config";
import {
  channelThrottle,
  createRedisConnection,
  QUEUE_NAMES,
  ZRealtimePayload,
} from "@luxrelay/jobs";
import type { Logger } from "@luxrelay/logger";
import { type OutboundDeps, RealtimeSender, RetryLaterError } from "@luxrelay/outbound";
import { DelayedError, Worker } from "bullmq";
import { lockRenewer, parsePayload } from "./payload.ts";

// The `realtime` role: many realtime jobs held at once, each waiting in the micro-batcher for
// its group's POST. A job that must wait (a 429 holds its channel; an earlier call's outcome
// is not settled yet) is put back as a delayed job, without using an attempt.

export async function startRealtimeWorkers(deps: OutboundDeps, config: Config, logger: Logger) {
  const holds = createRedisConnection({ redisUrl: config.redisUrl });
  const throttle = channelThrottle(holds, config.queuePrefix);
  const sender = new RealtimeSender(deps, {
    flushMs: config.realtime.flushMs,
    maxBatch: config.realtime.maxBatch,
    pauseChannel: async (channelId, ms) => {
      logger.warn(
        { channelId, retryAfterMs: ms },
        "LuxSci rate limit: channel's realtime sends wait",
      );
      await throttle.pause(channelId, ms);
    },
  });
  const worker = new Worker(
    QUEUE_NAMES.realtime,
    async (job, token) => {
      const payload = parsePayload(ZRealtimePayload, job);
      const held = await throttle.pausedFor(payload.channelId);
      try {
        if (held > 0) throw new RetryLaterError(held, "channel held after a 429");
        return await sender.send(payload, lockRenewer(job, token, config.worker.lockMs));
      } catch (error) {
        if (!(error instanceof RetryLaterError)) throw error;
        await job.moveToDelayed(Date.now() + error.delayMs, token);
        throw new DelayedError();
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
  worker.on("closed", () => void holds.quit());
  return [worker];
}
