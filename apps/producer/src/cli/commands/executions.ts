import { extname } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { EventMetrics } from "@luxrelay/inbound";
import type { ExecutionStatusView, ReconcileReport } from "@luxrelay/outbound";
import type { ApiClient } from "../client.ts";
import {
  type CliCommand,
  type CommonOptions,
  clientOf,
  positiveInt,
  UsageError,
  wholeNumber,
  withCommon,
} from "../common.ts";
import { bytes, count, print, table } from "../output.ts";
import { bar, ProgressLine, uploadLine } from "../progress.ts";

// luxrelay audience upload, send, status, pause|resume|cancel|replay, reconcile, export-merge

type StatusView = Omit<ExecutionStatusView, "batches" | "recipients"> & {
  batches: { total: number } & Partial<Record<"pending" | "sending" | "sent" | "failed", number>>;
  recipients: Partial<Record<"pending" | "sent" | "failed" | "suppressed", number>>;
  /** Delivery metrics from inbound sync (GET /executions/{id}). */
  metrics?: EventMetrics;
};

interface UploadReply {
  id: string;
  audience: { type: "file"; path: string; format: "csv" | "ndjson" };
  rows: number;
  bytes: number;
}

const ENDED_OK = new Set(["completed"]);
const ENDED_BADLY = new Set(["failed", "partially_failed", "cancelled"]);
const DEFAULT_POLL_INTERVAL_MS = 1000;

function formatOf(file: string, given?: string): "csv" | "ndjson" {
  const format =
    given ??
    { ".csv": "csv", ".ndjson": "ndjson", ".jsonl": "ndjson" }[extname(file).toLowerCase()];
  if (format === "csv" || format === "ndjson") return format;
  throw new UsageError(`--format: expected csv or ndjson (cannot tell from "${file}")`);
}

async function uploadAudience(
  client: ApiClient,
  file: string,
  format?: string,
): Promise<UploadReply> {
  const line = new ProgressLine();
  const reply = await client.upload<UploadReply>(file, formatOf(file, format), (progress) =>
    line.update(uploadLine(file, progress), progress.done),
  );
  return reply;
}

function describeStatus(execution: StatusView): string {
  const { audience, batches, recipients } = execution;
  const rows: [string, string][] = [
    [
      "audience",
      `read ${count(audience.read)} · invalid ${count(audience.invalid)} · duplicate ${count(audience.duplicate)} · suppressed ${count(audience.suppressed)} · seeds ${count(audience.seeds)}`,
    ],
    [
      "batches",
      `${count(batches.sent)}/${count(batches.total)} sent · ${count(batches.failed)} failed · ${count((batches.pending ?? 0) + (batches.sending ?? 0))} to go`,
    ],
    [
      "recipients",
      Object.entries(recipients)
        .map(([state, n]) => `${state} ${count(n)}`)
        .join(" · ") || "none yet",
    ],
  ];
  const { metrics } = execution;
  if (metrics) {
    rows.push([
      "events",
      `sent ${count(metrics.sent)} · delivered ${count(metrics.delivered)} · failed ${count(metrics.failed)} · opened ${count(metrics.opened.unique)} (${count(metrics.opened.total)}) · clicked ${count(metrics.clicked.unique)} (${count(metrics.clicked.total)}) · complained ${count(metrics.complained)} · unsubscribed ${count(metrics.unsubscribed)}`,
    ]);
  }
  if (execution.sendAt) rows.push(["send at", String(execution.sendAt)]);
  if (execution.error) rows.push(["error", execution.error]);
  return [
    `execution ${execution.id}: ${execution.status} (offer ${execution.offerId}, channel ${execution.channelId})`,
    table(rows),
  ].join("\n");
}

function progressOf(execution: StatusView): string {
  const { batches, recipients } = execution;
  const ended = (batches.sent ?? 0) + (batches.failed ?? 0);
  return (
    `${bar(ended, batches.total)} ${count(batches.sent)}/${count(batches.total)} batches` +
    `${batches.failed ? ` (${count(batches.failed)} failed)` : ""} · ` +
    `${count(recipients.sent)} recipients sent · ${execution.status}`
  );
}

/** Polls until the execution ends; exit code 0 when completed, 1 otherwise. */
async function waitFor(client: ApiClient, id: number, intervalMs: number): Promise<StatusView> {
  const line = new ProgressLine();
  for (;;) {
    const { execution } = await client.request<{ execution: StatusView }>(
      "GET",
      `/executions/${id}`,
    );
    const ended = ENDED_OK.has(execution.status) || ENDED_BADLY.has(execution.status);
    line.update(progressOf(execution), ended);
    if (ended) return execution;
    await sleep(intervalMs);
  }
}

export function registerExecutionCommands(program: CliCommand): void {
  const audience = program.command("audience").description("audience files");
  withCommon(audience.command("upload <file>"))
    .description("stream a CSV (with header) or NDJSON file to the producer")
    .option("--format <format>", "csv or ndjson (default: from the file extension)")
    .action(async (file: string, options: CommonOptions & { format?: string }) => {
      const reply = await uploadAudience(clientOf(options), file, options.format);
      print(
        options,
        reply,
        () =>
          `audience ${reply.id}: ${count(reply.rows)} rows (${bytes(reply.bytes)}, ${reply.audience.format})\n` +
          `send it with: luxrelay send --offer <id> --channel <id> --audience-file ${reply.id}`,
      );
    });

  withCommon(program.command("send"))
    .description("send an offer on a channel to an audience (file, uploaded file or table)")
    .requiredOption("--offer <id>", "offer id")
    .requiredOption("--channel <id>", "channel id")
    .option("--file <path>", "CSV or NDJSON file: uploaded first")
    .option("--audience-file <id>", "id of an audience uploaded before")
    .option("--table <name>", "PostgreSQL table (or schema.table) holding the audience")
    .option("--at <time>", "send at this ISO 8601 time (e.g. 2026-12-01T09:00:00Z)")
    .option("--wait", "wait for the end, with a progress bar on stderr; exit 1 unless completed")
    .option("--interval <ms>", "status poll interval with --wait", wholeNumber("--interval"))
    .action(
      async (
        options: CommonOptions & {
          offer: string;
          channel: string;
          file?: string;
          audienceFile?: string;
          table?: string;
          at?: string;
          wait?: boolean;
          interval?: number;
        },
      ) => {
        const sources = [options.file, options.audienceFile, options.table].filter(Boolean);
        if (sources.length !== 1) {
          throw new UsageError("give exactly one of --file, --audience-file or --table");
        }
        let sendAt: string | undefined;
        if (options.at) {
          const at = new Date(options.at);
          if (Number.isNaN(at.getTime())) throw new UsageError(`--at: not a time: "${options.at}"`);
          sendAt = at.toISOString();
        }
        const client = clientOf(options);
        const source = options.file
          ? { audienceFile: (await uploadAudience(client, options.file)).id }
          : options.audienceFile
            ? { audienceFile: options.audienceFile }
            : { audience: { type: "table", name: options.table } };
        const reply = await client.request<{ execution: { id: number; status: string } }>(
          "POST",
          "/executions",
          {
            offerId: positiveInt(options.offer, "--offer"),
            channelId: options.channel,
            ...source,
            sendAt,
          },
        );
        const { id } = reply.execution;
        if (!options.wait) {
          print(
            options,
            reply,
            () =>
              `execution ${id} ${reply.execution.status}${sendAt ? ` for ${sendAt}` : ""}\nfollow it with: luxrelay status ${id}`,
          );
          return;
        }
        process.stderr.write(`execution ${id} created\n`);
        const ended = await waitFor(client, id, options.interval ?? DEFAULT_POLL_INTERVAL_MS);
        print(options, { execution: ended }, () => describeStatus(ended));
        if (!ENDED_OK.has(ended.status)) process.exitCode = 1;
      },
    );

  withCommon(program.command("status <execution>"))
    .description("an execution's status, counts and errors")
    .action(async (id: string, options: CommonOptions) => {
      const reply = await clientOf(options).request<{ execution: StatusView }>(
        "GET",
        `/executions/${positiveInt(id, "execution")}`,
      );
      print(options, reply, () => describeStatus(reply.execution));
    });

  const controls = {
    pause: "pause an execution (its batches wait)",
    resume: "resume a paused execution",
    cancel: "cancel an execution (nothing more is sent)",
  } as const;
  for (const [action, description] of Object.entries(controls)) {
    withCommon(program.command(`${action} <execution>`))
      .description(description)
      .action(async (id: string, options: CommonOptions) => {
        const reply = await clientOf(options).request<{ execution: StatusView }>(
          "POST",
          `/executions/${positiveInt(id, "execution")}/${action}`,
        );
        print(options, reply, () => `execution ${id}: ${reply.execution.status}`);
      });
  }

  withCommon(program.command("replay <execution>"))
    .description("re-send the failed batches of an ended execution")
    .action(async (id: string, options: CommonOptions) => {
      const reply = await clientOf(options).request<{ replay: { round: number; batches: number } }>(
        "POST",
        `/executions/${positiveInt(id, "execution")}/replay`,
      );
      print(options, reply, () =>
        reply.replay.batches === 0
          ? `execution ${id}: no failed batches to replay`
          : `execution ${id}: replay round ${reply.replay.round}, ${reply.replay.batches} batches re-queued`,
      );
    });

  withCommon(program.command("reconcile"))
    .description(
      "re-add the queue jobs of unfinished executions that Redis lost (workers do it every minute)",
    )
    .action(async (options: CommonOptions) => {
      const reply = await clientOf(options).request<{ reconcile: ReconcileReport }>(
        "POST",
        "/reconcile",
      );
      const r = reply.reconcile;
      print(options, reply, () =>
        r.repaired.length === 0
          ? `reconcile: ${r.executions} unfinished executions, every job in place`
          : `reconcile: re-added ${r.plansAdded} plan, ${r.sendJobsAdded} send and ${r.finalizesAdded} finalize jobs for executions ${r.repaired.join(", ")}`,
      );
    });

  withCommon(program.command("export-merge <batch>"))
    .description("a batch's mail-merge file (CSV), for audit")
    .option("-o, --output <file>", "write to a file instead of stdout")
    .action(async (id: string, options: CommonOptions & { output?: string }) => {
      const batchId = positiveInt(id, "batch");
      await clientOf(options).download(
        `/batches/${batchId}/merge`,
        options.output ?? process.stdout,
      );
      if (options.output)
        process.stderr.write(`batch ${batchId} merge file written to ${options.output}\n`);
    });
}
