import type { Envelope } from "../errors/classify.ts";
import { type LuxSciHttp, ShapeError } from "../http.ts";
import type {
  ExportDestination,
  ExportJob,
  ExportJobCreated,
  ReportKind,
  ReportQuery,
} from "../types.ts";
import { validatePaging } from "../validation.ts";
import { buildReportQuery, REPORT_PATHS } from "./reports.ts";

const DEFAULT_SFTP_PORT = 22;
/** A file name with no folder in it: letters, digits, `_`, `.` and `-` (not `.` or `..`). */
const PLAIN_FILE_NAME = /^[\w.-]+$/;

/**
 * Whether `name` is a plain file name, safe to join to a folder: the export's file name is
 * LuxSci's word, and it becomes a path on our SFTP server (downloaded, then deleted) and in
 * the local reports folder (written, imported, deleted). `../` in it would reach outside both.
 */
export function isPlainFileName(name: string): boolean {
  return PLAIN_FILE_NAME.test(name) && name !== "." && name !== "..";
}

/**
 * Async export (seed 000 inbound step 2): the report query plus destination=sftp makes LuxSci
 * write the report as CSV to our SFTP server. With max_jobs exports running LuxSci answers 409,
 * thrown as LuxSciMaxJobsError; the caller waits 60 s and asks again (inbound step 3).
 */
export async function requestExport(
  http: LuxSciHttp,
  kind: ReportKind,
  query: ReportQuery,
  destination: ExportDestination,
): Promise<ExportJobCreated> {
  const path = http.userPath(REPORT_PATHS[kind]);
  validatePaging(query, { method: "GET", path: http.fullPath(path) });
  const params = buildReportQuery(query);
  params.set("destination", "sftp");
  params.set("destination_hostname", destination.host);
  params.set("destination_port", String(destination.port ?? DEFAULT_SFTP_PORT));
  params.set("destination_username", destination.user);
  params.set("destination_password", destination.password);
  params.set("destination_directory", destination.directory);
  return http.call({
    method: "GET",
    path,
    query: params,
    // The password travels in the query; keep it out of any error text.
    secrets: [destination.password, encodeURIComponent(destination.password)],
    parse: (envelope) => {
      const data = envelope.data as Record<string, unknown> | null | undefined;
      if (!data || (typeof data.job_id !== "string" && typeof data.job_id !== "number")) {
        throw new ShapeError("export reply without data.job_id");
      }
      const filename = typeof data.filename === "string" ? data.filename : "";
      if (!isPlainFileName(filename)) {
        // Refused before anything is stored: no path is ever built from it.
        throw new ShapeError(
          `export reply's filename is not a plain file name: ${String(data.filename ?? "(none)")}`,
        );
      }
      return {
        jobId: String(data.job_id),
        filename,
        currentJobs: Number(data.current_jobs ?? 0),
        maxJobs: Number(data.max_jobs ?? 0),
      };
    },
  });
}

/** `GET /user/<u>/jobs` (seed 000 inbound step 3): every export job and its status. */
export function listJobs(http: LuxSciHttp): Promise<ExportJob[]> {
  return http.call({
    method: "GET",
    path: http.userPath("/jobs"),
    parse: parseJobs,
  });
}

export function parseJobs(envelope: Envelope): ExportJob[] {
  if (!Array.isArray(envelope.data)) throw new ShapeError("jobs reply without a data array");
  return envelope.data.map((raw, index) => {
    if (!raw || typeof raw !== "object") throw new ShapeError(`job ${index} is not an object`);
    const job = raw as Record<string, unknown>;
    if (job.job_id === undefined || job.job_id === null) {
      throw new ShapeError(`job ${index} without job_id`);
    }
    return {
      jobId: String(job.job_id),
      status: String(job.status ?? ""),
      statusDetail: text(job.status_detail),
      filename: text(job.filename),
      expectedRows: count(job.expected_rows),
      completedRows: count(job.completed_rows),
      created: text(job.created),
      updated: text(job.updated),
      completed: text(job.completed),
      currentJobs: count(job.current_jobs),
      maxJobs: count(job.max_jobs),
      uid: text(job.uid),
      hostname: text(job.hostname),
    };
  });
}

function text(value: unknown): string | null {
  return value === null || value === undefined ? null : String(value);
}

function count(value: unknown): number | null {
  if (value === null || value === undefined || value === "") return null;
  const n = Number(value);
  return Number.isFinite(n) ? n : null;
}
