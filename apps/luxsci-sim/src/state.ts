import { AuthService } from "./auth.ts";
import { SimClock } from "./clock.ts";
import type { EventModel } from "./events.ts";
import { ExportJobs } from "./export.ts";
import { Faults } from "./faults.ts";
import { Ledger } from "./ledger.ts";
import type { ResolvedAccount, ResolvedOptions } from "./options.ts";
import type { ScanContext } from "./reports/scan.ts";
import type { ReportSettings } from "./reports/settings.ts";
import { TemplateStore } from "./templates.ts";

/** Everything one simulator instance holds; routes receive it, nothing is module-global. */
export class SimState {
  readonly clock = new SimClock();
  readonly auth: AuthService;
  readonly model: EventModel;
  readonly ledger: Ledger;
  readonly templates = new TemplateStore();
  readonly faults: Faults;
  readonly jobs: ExportJobs;
  /** Report lag and disorder: set at start, changed through the admin API, reset by reset(). */
  report: ReportSettings;

  constructor(readonly options: ResolvedOptions) {
    this.auth = new AuthService(
      options.accounts,
      this.clock,
      options.authValiditySeconds,
      options.authDateSkewSeconds,
    );
    this.model = {
      seed: options.seed,
      rates: options.eventRates,
      delays: options.eventDelays,
      scale: options.eventDelayScale,
    };
    this.ledger = new Ledger(this.model, options.keepMergedMessages);
    this.faults = new Faults(options.seed);
    for (const rule of options.faults) this.faults.set(rule);
    this.jobs = new ExportJobs(this.clock, options.maxJobs, options.exportStepMs, options.seed);
    this.jobs.filenameOverride = options.exportFilename;
    this.report = { ...options.report };
  }

  scanContext(account: ResolvedAccount): ScanContext {
    return {
      ledger: this.ledger,
      model: this.model,
      accountIndex: account.index,
      trackedHeaders: this.options.trackedHeaders,
      nowMs: this.clock.nowMs(),
      report: { ...this.report },
    };
  }

  /**
   * Back to an empty simulator: ledger, templates, jobs, faults, clock offset, report settings
   * and export file name as at the start.
   */
  reset(): void {
    this.report = { ...this.options.report };
    this.jobs.filenameOverride = this.options.exportFilename;
    this.ledger.clear();
    this.templates.clear();
    this.jobs.clear();
    this.faults.clear();
    this.clock.offsetMs = 0;
  }
}
