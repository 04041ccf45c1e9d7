import { posix } from "node:path";
import { Readable } from "node:stream";
import { hash32 } from "@luxrelay/sim-kit";
import SftpClient from "ssh2-sftp-client";
import { formatGmt, type SimClock } from "./clock.ts";
import { csvLine } from "./csv.ts";
import type { ExportStepTimings, ResolvedAccount } from "./options.ts";
import { REPORT_HEADERS, type ReportKind } from "./reports/headers.ts";
import type { ReportQuery } from "./reports/query.ts";
import { buildRow } from "./reports/rows.ts";
import { pageReport, type RowRef, type ScanContext } from "./reports/scan.ts";
import { RequestError } from "./validate.ts";

// Seed 000 inbound steps 2-3: a report with destination=sftp becomes a job that LuxSci runs
// in the background and uploads as CSV; /jobs shows its progress. At most max_jobs run per
// account; another request is refused (contract: HTTP 409 with current_jobs and max_jobs).

export const JOB_STATUSES = [
  "submitted",
  "preparing",
  "running",
  "uploading",
  "complete",
  "failed",
] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

export interface ExportDestination {
  hostname: string;
  port: number;
  username: string;
  password: string;
  directory: string;
}

export interface ExportJob {
  jobId: string;
  accountIndex: number;
  uid: string;
  kind: ReportKind;
  status: JobStatus;
  statusDetail: string | null;
  filename: string;
  createdMs: number;
  updatedMs: number;
  completedMs: number | null;
  expectedRows: number;
  completedRows: number;
  destination: ExportDestination;
}

const FIRST_JOB_ID = 310_383;
// Seed 000's jobs name the LuxSci server that ran them.
const JOB_HOSTNAME = "rs-sim.luxsci.local";
const ACTIVE: ReadonlySet<JobStatus> = new Set(["submitted", "preparing", "running", "uploading"]);

export function parseDestination(query: Record<string, string | undefined>): ExportDestination {
  const hostname = query.destination_hostname;
  const username = query.destination_username;
  if (!hostname || !username) {
    throw new RequestError("destination_hostname and destination_username are required");
  }
  const port = Number(query.destination_port || 22);
  if (!Number.isInteger(port) || port < 1 || port > 65_535) {
    throw new RequestError("destination_port must be a port number");
  }
  return {
    hostname,
    port,
    username,
    password: query.destination_password ?? "",
    directory: query.destination_directory || ".",
  };
}

export class ExportJobs {
  private jobs: ExportJob[] = [];
  private nextId = FIRST_JOB_ID;
  private timers = new Set<NodeJS.Timeout>();
  private closed = false;
  /** Set: every new job gets this file name (exportFilename option); null: seed 000's names. */
  filenameOverride: string | null = null;

  constructor(
    private readonly clock: SimClock,
    private readonly maxJobs: number,
    private readonly steps: ExportStepTimings,
    private readonly seed: number,
  ) {}

  currentJobs(accountIndex: number): number {
    return this.jobs.filter((job) => job.accountIndex === accountIndex && ACTIVE.has(job.status))
      .length;
  }

  list(accountIndex: number): ExportJob[] {
    return this.jobs.filter((job) => job.accountIndex === accountIndex);
  }

  /** Creates a job or refuses with 409 when max_jobs are running. */
  create(
    account: ResolvedAccount,
    kind: ReportKind,
    query: ReportQuery,
    destination: ExportDestination,
    context: () => ScanContext,
  ): ExportJob {
    const current = this.currentJobs(account.index);
    if (current >= this.maxJobs) {
      throw new RequestError(`max jobs (${this.maxJobs}) already running`, 409, {
        current_jobs: current,
        max_jobs: this.maxJobs,
      });
    }
    const now = this.clock.nowMs();
    const jobId = String(this.nextId++);
    const job: ExportJob = {
      jobId,
      accountIndex: account.index,
      uid: account.uid,
      kind,
      status: "submitted",
      statusDetail: null,
      // Seed 000's file names: "<epoch>-<4 digits>-<digits>.csv". An override is used as it is,
      // folders and `..` included: the upload goes where a LuxSci that named it so would put it.
      filename:
        this.filenameOverride ??
        `${Math.floor(now / 1000)}-1485-${hash32(jobId, this.seed) % 10_000_000}.csv`,
      createdMs: now,
      updatedMs: now,
      completedMs: null,
      expectedRows: 0,
      completedRows: 0,
      destination,
    };
    this.jobs.push(job);
    void this.run(job, account, query, context).catch((error: unknown) => {
      this.finish(job, "failed", `export failed: ${(error as Error).message}`);
    });
    return job;
  }

  private wait(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        resolve();
      }, ms);
      this.timers.add(timer);
    });
  }

  private move(job: ExportJob, status: JobStatus): void {
    job.status = status;
    job.updatedMs = this.clock.nowMs();
  }

  private finish(job: ExportJob, status: "complete" | "failed", detail: string | null): void {
    if (!ACTIVE.has(job.status)) return;
    this.move(job, status);
    job.statusDetail = detail;
    job.completedMs = job.updatedMs;
  }

  private async run(
    job: ExportJob,
    account: ResolvedAccount,
    query: ReportQuery,
    context: () => ScanContext,
  ): Promise<void> {
    await this.wait(this.steps.submittedMs);
    if (this.closed) return;
    this.move(job, "preparing");
    // The rows are fixed when preparation starts: later sends do not change this file.
    const scan = context();
    const { refs } = pageReport(job.kind, query, scan);
    job.expectedRows = refs.length;
    await this.wait(this.steps.preparingMs);
    if (this.closed) return;
    this.move(job, "running");
    await this.wait(this.steps.runningMs);
    if (this.closed) return;
    this.move(job, "uploading");
    await this.upload(job, account, refs, scan);
  }

  private async upload(
    job: ExportJob,
    account: ResolvedAccount,
    refs: RowRef[],
    scan: ScanContext,
  ): Promise<void> {
    const { destination } = job;
    const remotePath = posix.join(destination.directory, job.filename);
    const where = `sftp://${destination.username}@${destination.hostname}:${destination.port}${
      remotePath.startsWith("/") ? "" : "/"
    }${remotePath}`;
    const sftp = new SftpClient();
    try {
      await sftp.connect({
        host: destination.hostname,
        port: destination.port,
        username: destination.username,
        password: destination.password,
        readyTimeout: 10_000,
        retries: 0,
      });
    } catch (error) {
      this.finish(job, "failed", this.describe(`SFTP login to ${where} failed`, error, job));
      return;
    }
    try {
      const kind = job.kind;
      function* lines(): Generator<string> {
        yield csvLine(REPORT_HEADERS[kind]);
        let chunk = "";
        for (const ref of refs) {
          chunk += csvLine(buildRow(kind, ref, scan, account));
          job.completedRows++;
          if (chunk.length > 256 * 1024) {
            yield chunk;
            chunk = "";
          }
        }
        if (chunk) yield chunk;
      }
      await sftp.put(Readable.from(lines()), remotePath);
      this.finish(job, "complete", null);
    } catch (error) {
      this.finish(job, "failed", this.describe(`SFTP upload to ${where} failed`, error, job));
    } finally {
      await sftp.end().catch(() => undefined);
    }
  }

  private describe(prefix: string, error: unknown, job: ExportJob): string {
    const message = error instanceof Error ? error.message : String(error);
    const password = job.destination.password;
    // Never echo the SFTP password back in status_detail.
    const clean = password ? message.replaceAll(password, "***") : message;
    return `${prefix}: ${clean}`;
  }

  clear(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    for (const job of this.jobs) this.finish(job, "failed", "simulator reset");
    this.jobs = [];
    this.nextId = FIRST_JOB_ID;
  }

  close(): void {
    this.closed = true;
    this.clear();
  }
}

/** A job as seed 000's /jobs lists it. */
export function jobView(job: ExportJob, currentJobs: number, maxJobs: number) {
  return {
    created: formatGmt(job.createdMs),
    status_detail: job.statusDetail,
    updated: formatGmt(job.updatedMs),
    completed: job.completedMs === null ? null : formatGmt(job.completedMs),
    current_jobs: currentJobs,
    filename: job.filename,
    uid: job.uid,
    completed_rows: job.completedRows,
    job_id: job.jobId,
    status: job.status,
    max_jobs: maxJobs,
    expected_rows: job.expectedRows,
    hostname: JOB_HOSTNAME,
    report: job.kind,
  };
}
