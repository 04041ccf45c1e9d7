import { JOB_NAMES, jobId } from "@luxrelay/jobs";
import type { SyncDeps } from "../context.ts";
import { type ApiSyncResult, type SyncProgress, syncChannelByApi } from "./api-sync.ts";
import { loadChannel } from "./channel.ts";
import { startExportSet } from "./export-set.ts";
import { importLuxSciSuppressions } from "./suppression-list.ts";

// One sync run of a channel (seed 000 inbound steps 1-11), one at a time per channel: API
// mode pages the reports now; export mode starts one async export per report on the exports
// queue (whose global concurrency is LuxSci's max_jobs) and merges the suppression list, or,
// while the previous run's exports are still under way, waits for them (export-set.ts).

/** The per-channel lock lapses this long after its last sign of life (a page stored). */
const LOCK_MS = 5 * 60_000;

export type SyncRunResult =
  | { channelId: string; mode: "api"; result: ApiSyncResult }
  | {
      channelId: string;
      mode: "export";
      exportJobIds: number[];
      suppressions: { listed: number; added: number };
    }
  | {
      channelId: string;
      mode: "skipped";
      reason: string;
      /** Export mode: the previous run's exports still under way, waited for. */
      pendingExportJobIds?: number[];
      /** Export mode: those of them whose step job was gone, queued again. */
      requeuedExportJobIds?: number[];
    };

export async function runChannelSync(
  deps: SyncDeps,
  channelId: string,
  options: { progress?: SyncProgress; runId?: string } = {},
): Promise<SyncRunResult> {
  const lock = `${deps.queuePrefix}:sync-lock:${channelId}`;
  // The run's id (its job id): a retry of a run whose worker died takes its own lock over.
  const token = options.runId ?? `${process.pid}-${Date.now()}`;
  if ((await deps.redis.set(lock, token, "PX", LOCK_MS, "NX")) !== "OK") {
    if ((await deps.redis.get(lock)) !== token) {
      deps.logger.info({ channelId }, "a sync of this channel is running: skipped");
      return { channelId, mode: "skipped", reason: "a sync of this channel is already running" };
    }
    deps.logger.warn({ channelId, runId: token }, "taking over an interrupted sync run");
  }
  const progress: SyncProgress = async (step) => {
    await deps.redis.pexpire(lock, LOCK_MS);
    await options.progress?.(step);
  };
  try {
    const channel = await loadChannel(deps, channelId);
    if (channel.syncMode === "api") {
      return {
        channelId,
        mode: "api",
        result: await syncChannelByApi(deps, channelId, { progress }),
      };
    }
    const set = await startExportSet(deps, channelId);
    if (!set.started) {
      const { pendingExportJobIds, requeuedExportJobIds } = set;
      deps.logger.info(
        { channelId, pendingExportJobIds, requeuedExportJobIds },
        "channel sync: the previous exports are still under way, none requested",
      );
      return {
        channelId,
        mode: "skipped",
        reason: `${pendingExportJobIds.length} exports of the previous run are still under way`,
        pendingExportJobIds,
        requeuedExportJobIds,
      };
    }
    const { exportJobIds } = set;
    const suppressions = await importLuxSciSuppressions(
      deps,
      channelId,
      deps.luxsci.client(channel),
    );
    deps.logger.info({ channelId, exportJobIds }, "channel sync: exports requested");
    return { channelId, mode: "export", exportJobIds, suppressions };
  } finally {
    // Released only by its owner (a run that outlived the lock must not free another's).
    await deps.redis.eval(
      "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0",
      1,
      lock,
      token,
    );
  }
}

/** One job scheduler per channel with sync enabled (BullMQ upsertJobScheduler). */
export async function scheduleChannelSyncs(deps: SyncDeps): Promise<number> {
  const channels = await deps.prisma.channel.findMany({
    select: { id: true, syncEnabled: true, syncIntervalSeconds: true },
  });
  let scheduled = 0;
  for (const channel of channels) {
    const schedulerId = jobId("sync", channel.id);
    if (!channel.syncEnabled) {
      await deps.queues.reports.removeJobScheduler(schedulerId);
      continue;
    }
    await deps.queues.reports.upsertJobScheduler(
      schedulerId,
      { every: channel.syncIntervalSeconds * 1000 },
      {
        name: JOB_NAMES.sync,
        data: { channelId: channel.id, reason: "scheduled" },
        // Every few minutes per channel: finished runs go, a few kept to look at.
        opts: {
          removeOnComplete: { age: 86_400, count: 50 },
          removeOnFail: { age: 7 * 86_400, count: 50 },
        },
      },
    );
    scheduled++;
  }
  return scheduled;
}
