import type { ApiClient } from "../client.ts";
import {
  type CliCommand,
  type CommonOptions,
  clientOf,
  wholeNumber,
  withCommon,
} from "../common.ts";
import { count, print } from "../output.ts";
import { ProgressLine } from "../progress.ts";

// luxrelay sync <channel> [--wait]: bring the channel's events in now (issue 6).

interface SyncView {
  jobId: string;
  state: string;
  progress: { kind?: string; pages?: number; rows?: number } | number | null;
  result: unknown;
  error: string | null;
}

const DEFAULT_POLL_INTERVAL_MS = 500;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitForSync(
  client: ApiClient,
  jobId: string,
  intervalMs: number,
): Promise<SyncView> {
  const line = new ProgressLine();
  for (;;) {
    const { sync } = await client.request<{ sync: SyncView }>("GET", `/sync-jobs/${jobId}`);
    const ended = sync.state === "completed" || sync.state === "failed";
    const progress = typeof sync.progress === "object" && sync.progress ? sync.progress : {};
    line.update(
      `sync ${sync.state}: ${progress.kind ?? "-"} report, ${count(progress.pages ?? 0)} pages, ${count(progress.rows ?? 0)} rows`,
      ended,
    );
    if (ended) return sync;
    await sleep(intervalMs);
  }
}

export function registerSyncCommands(program: CliCommand): void {
  withCommon(program.command("sync <channel>"))
    .description("sync the channel's delivery events now (reports or async exports)")
    .option("--wait", "wait for the run to end, with progress on stderr; exit 1 if it failed")
    .option("--interval <ms>", "poll interval with --wait", wholeNumber("--interval"))
    .action(
      async (channel: string, options: CommonOptions & { wait?: boolean; interval?: number }) => {
        const client = clientOf(options);
        const { sync } = await client.request<{ sync: { jobId: string } }>(
          "POST",
          `/channels/${channel}/sync`,
        );
        if (!options.wait) {
          print(options, { sync }, () => `sync queued: job ${sync.jobId}`);
          return;
        }
        const ended = await waitForSync(
          client,
          sync.jobId,
          options.interval ?? DEFAULT_POLL_INTERVAL_MS,
        );
        print(options, { sync: ended }, () =>
          ended.state === "completed"
            ? `sync completed: ${JSON.stringify(ended.result)}`
            : `sync failed: ${ended.error}`,
        );
        if (ended.state !== "completed") process.exitCode = 1;
      },
    );
}
