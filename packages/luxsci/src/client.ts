import type { Logger } from "@luxrelay/logger";
import { listJobs, requestExport } from "./endpoints/export.ts";
import { getProfile } from "./endpoints/profile.ts";
import { getReportPage, iterateReport, iterateReportRows } from "./endpoints/reports.ts";
import { type SendOptions, sendEmail } from "./endpoints/send.ts";
import { getSuppressions } from "./endpoints/suppression.ts";
import { createTemplate, deleteTemplate } from "./endpoints/templates.ts";
import { LuxSciHttp } from "./http.ts";
import {
  DEFAULT_MAX_ATTEMPTS,
  DEFAULT_MAX_RETRY_AFTER_MS,
  DEFAULT_MAX_RETRY_DELAY_MS,
  DEFAULT_RETRY_BASE_MS,
} from "./retry.ts";
import type { TransportOptions } from "./transport.ts";
import type {
  ExportDestination,
  ExportJob,
  ExportJobCreated,
  LuxSciMessage,
  LuxSciProfile,
  LuxSciTemplateInput,
  ReportKind,
  ReportPage,
  ReportQuery,
  ReportRow,
  Suppression,
} from "./types.ts";

/**
 * A Date header older than this is read again before it dates anything: our host's clock may
 * be stepped (NTP) between two replies, which the offset learnt from the older one can't see.
 */
const SERVER_CLOCK_MAX_AGE_MS = 30_000;

export interface LuxSciClientOptions extends TransportOptions {
  /** e.g. "https://rest.luxsci.com/perl/api/v2" (the simulator's `url`). */
  baseUrl: string;
  /** LuxSci user name: the `<u>` of every user-scope path. */
  user: string;
  /** API token. */
  token: string;
  /** API secret: keys every HMAC; never sent, never logged. */
  secret: string;
  /** LuxSci password: when given, auth is user scope (user and pass in the signature). */
  password?: string;
  /** Attempts per call, the first included (seed 000: "max. retries", default 10). */
  retries?: number;
  /** First backoff step (default 1000 ms: 1 s, 2 s, 4 s ...). Tests use a few ms. */
  retryBaseMs?: number;
  /** Cap of one backoff sleep (default 300 s). */
  maxRetryDelayMs?: number;
  /** Cap of a Retry-After LuxSci asks for (default 120 s). */
  maxRetryAfterMs?: number;
  /**
   * Retry 429 inside the client (default true). false: throw LuxSciRateLimitError at once so a
   * BullMQ worker can rate-limit its whole queue instead.
   */
  retryRateLimited?: boolean;
  /** Retries are logged at warn with method, path, status, code, attempt and delayMs. */
  logger?: Logger;
}

/** The typed LuxSci API v2 client. One instance per LuxSci account; share it; close() it. */
export class LuxSciClient {
  private readonly http: LuxSciHttp;

  constructor(options: LuxSciClientOptions) {
    this.http = new LuxSciHttp({
      ...options,
      maxAttempts: options.retries ?? DEFAULT_MAX_ATTEMPTS,
      retryBaseMs: options.retryBaseMs ?? DEFAULT_RETRY_BASE_MS,
      maxRetryDelayMs: options.maxRetryDelayMs ?? DEFAULT_MAX_RETRY_DELAY_MS,
      maxRetryAfterMs: options.maxRetryAfterMs ?? DEFAULT_MAX_RETRY_AFTER_MS,
      retryRateLimited: options.retryRateLimited ?? true,
    });
  }

  /** Auth + `GET /user/<u>/profile`: the connectivity test (seed 000 outbound step 1). */
  getProfile(): Promise<LuxSciProfile> {
    return getProfile(this.http);
  }

  /** Creates a template; returns its id. */
  createTemplate(template: LuxSciTemplateInput): Promise<string> {
    return createTemplate(this.http, template);
  }

  /** Deletes a template; false when LuxSci had no such template (404). */
  deleteTemplate(templateId: string | number): Promise<boolean> {
    return deleteTemplate(this.http, templateId);
  }

  /** Sends ≤1000 messages; one sendmail id per message, in order. Validates before sending. */
  sendEmail(messages: readonly LuxSciMessage[], options?: SendOptions): Promise<string[]> {
    return sendEmail(this.http, messages, options);
  }

  /** One page of the sent, delivery, opens, clicks or fbl report. */
  getReport(kind: ReportKind, query?: ReportQuery): Promise<ReportPage> {
    return getReportPage(this.http, kind, query);
  }

  /** Every page of a report, `query.matches` (default 50000) rows at a time. */
  iterateReport(
    kind: ReportKind,
    query?: ReportQuery,
  ): AsyncGenerator<ReportPage, void, undefined> {
    return iterateReport(this.http, kind, query);
  }

  /** Every row of a report, keyed by the reply's header. */
  iterateReportRows(
    kind: ReportKind,
    query?: ReportQuery,
  ): AsyncGenerator<ReportRow, void, undefined> {
    return iterateReportRows(this.http, kind, query);
  }

  /** Starts an async export of a report to SFTP. 409 → LuxSciMaxJobsError. */
  requestExport(
    kind: ReportKind,
    query: ReportQuery,
    destination: ExportDestination,
  ): Promise<ExportJobCreated> {
    return requestExport(this.http, kind, query, destination);
  }

  listJobs(): Promise<ExportJob[]> {
    return listJobs(this.http);
  }

  getSuppressions(): Promise<Suppression[]> {
    return getSuppressions(this.http);
  }

  /**
   * LuxSci's time now, from the Date header of its latest reply; undefined before any reply.
   * Moments at LuxSci are compared on this clock, never on the host's.
   */
  serverNow(): Date | undefined {
    return this.http.clock.now();
  }

  /**
   * LuxSci's time now, reading its clock afresh (a profile call) when no reply in the last
   * `maxAgeMs` carried a Date header. Falls back to the host's clock only when LuxSci sends
   * no Date header at all.
   */
  async serverTime(maxAgeMs = SERVER_CLOCK_MAX_AGE_MS): Promise<Date> {
    if (this.http.clock.ageMs() > maxAgeMs) await this.getProfile();
    return this.http.clock.now() ?? new Date();
  }

  /** Closes the connection pool; in-flight calls finish first. */
  close(): Promise<void> {
    return this.http.close();
  }
}
