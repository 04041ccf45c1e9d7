// Public types. Request payloads LuxSci documents as JSON (a message, a template) keep its
// snake_case wire names, so they read like seed 000; query options and parsed replies are
// camelCase.

/** A header as LuxSci takes it: [name, value] (seed 000 outbound step 6). */
export type LuxSciHeader = [name: string, value: string];

/** One message of `POST /user/<u>/email/send` (seed 000 outbound step 6). */
export interface LuxSciMessage {
  from_address: string;
  from_name?: string | null;
  reply_address?: string | null;
  to?: string[] | null;
  cc?: string[] | null;
  bcc?: string[] | null;
  subject?: string | null;
  body?: string | null;
  body_text?: string | null;
  body_type?: string | null;
  headers?: LuxSciHeader[] | null;
  /** Template id from createTemplate; LuxSci merges template_data into it. */
  template?: string | number | null;
  template_data?: Record<string, string | number | boolean | null> | null;
  /** 1: insert template_data values as they are (no HTML escaping). */
  template_data_raw?: 0 | 1;
  no_tls_only?: 0 | 1;
  receipt?: 0 | 1;
  unsubscribe?: 0 | 1;
}

/** Body of `PUT /user/<u>/templates` (seed 000 outbound step 3) without template_id/code_word. */
export interface LuxSciTemplateInput {
  title: string;
  subject: string;
  body_html?: string | null;
  body_text?: string | null;
  format: "both" | "html" | "text";
  sl_opt_in?: boolean;
  sl_opt_out?: boolean;
  /** true for a secure (SecureLine, no-TLS-fallback) message. */
  sl_no_tls?: boolean;
}

/** `GET /user/<u>/profile` data (seed 000 outbound step 1); only what luxrelay reads is typed. */
export interface LuxSciProfile {
  contact?: string | null;
  uid?: string | number;
  account?: number;
  email1?: string | null;
  services?: string[];
  created?: string;
  last_access_date?: string | null;
  [field: string]: unknown;
}

/** A report cell as LuxSci sends it. */
export type LuxSciCell = string | number | boolean | null;

/** A report row keyed by the reply's own `header` array. */
export type ReportRow = Record<string, LuxSciCell>;

export type ReportKind = "sent" | "delivery" | "opens" | "clicks" | "fbl";

export interface HeaderFilter {
  /** Tracked header name, e.g. "chid". */
  name: string;
  /** like: SQL LIKE with % around the value; eq: equality. */
  operator: "like" | "eq";
  value: string;
}

export interface ReportQuery {
  /** Rows dated at or after this instant (sent as GMT "YYYY-MM-DD HH:MM:SS"). */
  afterDate?: Date;
  /** Rows dated strictly before this instant. */
  beforeDate?: Date;
  /** 0-based offset; default 0. */
  firstRow?: number;
  /** Page size, 1..50000; default 50000. */
  matches?: number;
  header1?: HeaderFilter;
}

export interface ReportPage {
  kind: ReportKind;
  matchesTotal: number;
  matchesReturned: number;
  /** The `first` LuxSci echoed (seed 000 shows it can differ from first_row). */
  first: number;
  /** The first_row this page was asked for. */
  firstRow: number;
  header: string[];
  rows: ReportRow[];
}

export interface ExportDestination {
  host: string;
  /** Default 22. */
  port?: number;
  user: string;
  password: string;
  directory: string;
}

export interface ExportJobCreated {
  jobId: string;
  filename: string;
  currentJobs: number;
  maxJobs: number;
}

export type ExportJobStatus =
  | "submitted"
  | "preparing"
  | "running"
  | "uploading"
  | "complete"
  | "failed";

/** One entry of `GET /user/<u>/jobs` (seed 000 inbound step 3). */
export interface ExportJob {
  jobId: string;
  status: ExportJobStatus | (string & {});
  statusDetail: string | null;
  filename: string | null;
  expectedRows: number | null;
  completedRows: number | null;
  created: string | null;
  updated: string | null;
  completed: string | null;
  currentJobs: number | null;
  maxJobs: number | null;
  uid: string | null;
  hostname: string | null;
}

/** One row of `GET /user/<u>/suppression` (seed 000 inbound step 10). */
export interface Suppression {
  email: string;
  account: number | string | null;
  id: number | string | null;
  uid: string | null;
  /** GMT "YYYY-MM-DD HH:MM:SS". */
  date: string | null;
  reason: string | null;
}
