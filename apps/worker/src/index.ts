import type { Config } from "@luxrelay/config";
import { createProcessPools } from "@luxrelay/db";
import { createSyncRuntime, type SyncRuntime } from "@luxrelay/inbound";
import type { Logger } from "@luxrelay/logger";
import { createOutboundRuntime } from "@luxrelay/outbound";
import type { Worker } from "bullmq";
import { startRealtimeWorkers } from "./realtime-workers.ts";
import { startSendWorkers } from "./send-workers.ts";
import { startHousekeepingWorkers, startSyncWorkers } from "./sync-workers.ts";

// The worker process: the roles in WORKER_QUEUES, and a clean stop. `stop` lets running jobs
// finish for up to shutdownTimeoutMs, then closes forcefully: an unfinished batch is taken
// over by another worker (stalled job) and reconciled against LuxSci before it sends again.

export interface WorkerProcess {
  workers: Worker[];
  stop(): Promise<void>;
}

export async function startWorkers(config: Config, logger: Logger): Promise<WorkerProcess> {
  // One PostgreSQL budget (DATABASE_POOL_MAX) for every role of the process.
  const pools = createProcessPools(config, logger);
  const runtime = createOutboundRuntime(config, logger, pools);
  const workers: Worker[] = [];
  let sync: SyncRuntime | undefined;
  const syncDeps = () => {
    sync ??= createSyncRuntime(config, logger, pools);
    return sync.deps;
  };
  for (const role of config.worker.roles) {
    if (role === "send") workers.push(...(await startSendWorkers(runtime.deps, config, logger)));
    else if (role === "reports")
      workers.push(...(await startSyncWorkers(syncDeps(), config, logger)));
    else if (role === "housekeeping")
      workers.push(...(await startHousekeepingWorkers(syncDeps(), runtime.deps, config, logger)));
    else if (role === "realtime")
      workers.push(...(await startRealtimeWorkers(runtime.deps, config, logger)));
  }
  logger.info({ roles: config.worker.roles, queues: workers.map((w) => w.name) }, "worker started");
  return {
    workers,
    async stop() {
      const graceful = Promise.all(workers.map((worker) => worker.close()));
      const timer = new Promise<"timeout">((resolve) =>
        setTimeout(() => resolve("timeout"), config.worker.shutdownTimeoutMs).unref(),
      );
      if ((await Promise.race([graceful, timer])) === "timeout") {
        logger.warn(
          { timeoutMs: config.worker.shutdownTimeoutMs },
          "jobs still running: forcing close",
        );
        await Promise.all(workers.map((worker) => worker.close(true)));
      }
      await Promise.all([runtime.close(), sync?.close()]);
      await pools.close();
      logger.info("worker stopped");
    },
  };
}
