import type { Logger } from "@luxrelay/logger";
import type { TEventDelays, TEventRates } from "./events.ts";
import type { FaultRule } from "./faults.ts";
import {
  DEFAULT_REPORT_SETTINGS,
  parseReportSettings,
  type ReportSettings,
} from "./reports/settings.ts";

/** A LuxSci account the simulator knows (the channel's credentials). */
export interface SimAccount {
  user: string;
  pass: string;
  token: string;
  secret: string;
  /** LuxSci account number (profile `account`, suppression column 3). */
  account?: number;
  /** LuxSci user id (profile `uid`, reports' `user_id`, auth prefix). */
  uid?: string | number;
}

export interface ResolvedAccount {
  user: string;
  pass: string;
  token: string;
  secret: string;
  account: number;
  uid: string;
  /** Position in the accounts list; the ledger stores it per message. */
  index: number;
}

export interface ExportStepTimings {
  /** submitted -> preparing */
  submittedMs: number;
  /** preparing -> running */
  preparingMs: number;
  /** running -> uploading (the rows are counted at the end of this step) */
  runningMs: number;
}

export interface SimulatorOptions {
  /** Seed of every random outcome (events, fault draws, ids). Default 1. */
  seed?: number;
  port?: number;
  host?: string;
  accounts?: SimAccount[];
  /** How long an `auth` value stays valid. Default 600 s (contract). */
  authValiditySeconds?: number;
  /** How far a POST /auth `date` may be from real time. Default 300 s (contract). */
  authDateSkewSeconds?: number;
  /** Export jobs that may run at once per account. Default 2 (seed 000 `max_jobs`). */
  maxJobs?: number;
  exportStepMs?: Partial<ExportStepTimings>;
  eventRates?: Partial<TEventRates>;
  eventDelays?: Partial<TEventDelays>;
  /** Multiplies every event delay (0.001 in tests makes "minutes" into milliseconds). */
  eventDelayScale?: number;
  /** Account-wide tracked header names, header1 first. Default ["chid", "rpid", "offername"]. */
  trackedHeaders?: string[];
  /** How many fully merged messages to keep for inspection. Default 1000. */
  keepMergedMessages?: number;
  /** A row dated D shows in reports and exports from D + reportLagMs on the clock. Default 0. */
  reportLagMs?: number;
  /** Of delivery/open/click rows, the fraction dated futureEventMs after they show. Default 0. */
  futureEventRate?: number;
  /** How far ahead of their showing "future" rows are dated. Default 3,600,000 (1 h). */
  futureEventMs?: number;
  /** Report rows in a stable order that is not by date. Default false. */
  shuffleReports?: boolean;
  /** Fault rules in place from the start (CLI flags). */
  faults?: FaultRule[];
  /**
   * The file name every export reply (and /jobs) gives, and the upload is written under, in
   * place of seed 000's `<epoch>-1485-<n>.csv`: a hostile LuxSci (`../../x.csv`) for tests.
   * Default null (seed 000's names).
   */
  exportFilename?: string | null;
  /** Largest request body accepted. Default 64 MiB. */
  bodyLimitBytes?: number;
  logger?: Logger;
}

export interface ResolvedOptions {
  seed: number;
  port: number;
  host: string;
  accounts: ResolvedAccount[];
  authValiditySeconds: number;
  authDateSkewSeconds: number;
  maxJobs: number;
  exportStepMs: ExportStepTimings;
  eventRates: TEventRates;
  eventDelays: TEventDelays;
  eventDelayScale: number;
  trackedHeaders: string[];
  keepMergedMessages: number;
  report: ReportSettings;
  faults: FaultRule[];
  exportFilename: string | null;
  bodyLimitBytes: number;
  logger: Logger | undefined;
}

export const BASE_PATH = "/perl/api/v2";
export const ADMIN_PATH = "/__sim";

export const DEMO_ACCOUNT: SimAccount = {
  user: "demo",
  pass: "demo-pass",
  token: "demo-token",
  secret: "demo-secret",
  account: 19172,
  uid: "163972",
};

export const DEFAULT_EVENT_RATES: TEventRates = {
  hardFail: 0.02,
  failed: 0.01,
  spam: 0.005,
  open: 0.3,
  click: 0.3,
  fbl: 0.002,
  unsubscribe: 0.005,
};

export const DEFAULT_EVENT_DELAYS: TEventDelays = {
  deliveryMs: [2_000, 60_000],
  openMs: [10_000, 600_000],
  clickMs: [1_000, 300_000],
  fblMs: [60_000, 1_800_000],
  unsubscribeMs: [10_000, 600_000],
};

export function resolveOptions(options: SimulatorOptions): ResolvedOptions {
  const accounts = (options.accounts?.length ? options.accounts : [DEMO_ACCOUNT]).map(
    (account, index): ResolvedAccount => ({
      user: account.user,
      pass: account.pass,
      token: account.token,
      secret: account.secret,
      // Seed 000's account 19172 / uid 163972 for the first account, then counting up.
      account: account.account ?? 19172 + index,
      uid: String(account.uid ?? 163972 + index),
      index,
    }),
  );
  return {
    seed: options.seed ?? 1,
    port: options.port ?? 0,
    host: options.host ?? "127.0.0.1",
    accounts,
    authValiditySeconds: options.authValiditySeconds ?? 600,
    authDateSkewSeconds: options.authDateSkewSeconds ?? 300,
    maxJobs: options.maxJobs ?? 2,
    exportStepMs: { submittedMs: 500, preparingMs: 500, runningMs: 1_000, ...options.exportStepMs },
    eventRates: { ...DEFAULT_EVENT_RATES, ...options.eventRates },
    eventDelays: { ...DEFAULT_EVENT_DELAYS, ...options.eventDelays },
    eventDelayScale: options.eventDelayScale ?? 1,
    trackedHeaders: options.trackedHeaders ?? ["chid", "rpid", "offername"],
    keepMergedMessages: options.keepMergedMessages ?? 1000,
    report: {
      ...DEFAULT_REPORT_SETTINGS,
      ...parseReportSettings({
        reportLagMs: options.reportLagMs,
        futureEventRate: options.futureEventRate,
        futureEventMs: options.futureEventMs,
        shuffleReports: options.shuffleReports,
      }),
    },
    faults: options.faults ?? [],
    exportFilename: options.exportFilename ?? null,
    bodyLimitBytes: options.bodyLimitBytes ?? 64 * 1024 * 1024,
    logger: options.logger,
  };
}
