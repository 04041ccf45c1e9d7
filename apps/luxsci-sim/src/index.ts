import type { AddressInfo } from "node:net";
import {
  type DuplicateKey,
  duplicateKeys,
  type LedgerSummary,
  ledgerEntries,
  ledgerSummary,
  mergedMessage,
  type SeedLedgerOptions,
  seedLedger,
  setReportSettings,
  settleEvents,
} from "./admin.ts";
import type { FaultRule, FaultSettings } from "./faults.ts";
import type { LedgerEntry } from "./ledger.ts";
import type { MergedMessage } from "./merge.ts";
import { BASE_PATH, resolveOptions, type SimulatorOptions } from "./options.ts";
import type { ReportSettings } from "./reports/settings.ts";
import { buildServer } from "./server.ts";
import { SimState } from "./state.ts";

// The simulator's only public door: start one in-process (tests, benchmarks, the demo) or
// through the CLI (src/main.ts). The helpers mirror the /__sim admin API.

export { mulberry32 } from "@luxrelay/sim-kit";
export type { DuplicateKey, LedgerSummary, SeedLedgerOptions } from "./admin.ts";
export type { TEventDelays, TEventRates } from "./events.ts";
export type { FaultRule, FaultSettings } from "./faults.ts";
export type { LedgerEntry } from "./ledger.ts";
export type { MergedMessage } from "./merge.ts";
export { compilePart, fillPart, mergeTemplate } from "./merge.ts";
export type { ExportStepTimings, SimAccount, SimulatorOptions } from "./options.ts";
export { ADMIN_PATH, BASE_PATH, DEMO_ACCOUNT } from "./options.ts";
export { REPORT_HEADERS, type ReportKind } from "./reports/headers.ts";
export type { ReportSettings } from "./reports/settings.ts";

/** The report disorders a test may turn on or off at runtime (reports/settings.ts). */
export type ReportDisorder = Partial<
  Pick<ReportSettings, "futureEventRate" | "futureEventMs" | "shuffleReports">
>;

export interface Simulator {
  /** Base URL of the API, including /perl/api/v2. */
  url: string;
  /** http://host:port, where /__sim lives. */
  origin: string;
  port: number;
  close(): Promise<void>;
  /**
   * Empties ledger, templates, jobs and faults; the clock offset returns to 0, the report
   * settings and the export file name to the start options.
   */
  reset(): void;
  setFault(route: string, fault: FaultSettings): void;
  clearFaults(): void;
  ledger(): LedgerSummary;
  ledgerEntries(filter: { chids?: string[]; sendmailIds?: string[] }): LedgerEntry[];
  duplicates(): DuplicateKey[];
  /** The merged message of a sendmail id (null when older than keepMergedMessages). */
  mergedMessage(sendmailId: string): MergedMessage | null | undefined;
  seedLedger(options: SeedLedgerOptions): string[];
  /** Moves the simulated clock (events become visible, auth values age). */
  advanceClock(seconds: number): void;
  /** Moves the clock past every event of every message sent so far, report lag included. */
  settleEvents(): void;
  /** Rows show in reports and exports `ms` after their own date (the clock decides). */
  setReportLag(ms: number): ReportSettings;
  /** Future-dated rows and out-of-date-order reports; fields left out keep their value. */
  setReportDisorder(disorder: ReportDisorder): ReportSettings;
  /** The report settings in force (lag and disorder). */
  reportSettings(): ReportSettings;
  /**
   * The file name of exports requested from now on, used as given (`../../x.csv`: a hostile
   * LuxSci); null: seed 000's names again. reset() restores the start option.
   */
  setExportFilename(filename: string | null): void;
}

export async function startSimulator(options: SimulatorOptions = {}): Promise<Simulator> {
  const resolved = resolveOptions(options);
  const state = new SimState(resolved);
  const { app, hung } = buildServer(state);
  await app.listen({ port: resolved.port, host: resolved.host });
  const { port } = app.server.address() as AddressInfo;
  const host = resolved.host.includes(":") ? `[${resolved.host}]` : resolved.host;
  const origin = `http://${host === "0.0.0.0" ? "127.0.0.1" : host}:${port}`;
  let closing: Promise<void> | undefined;
  return {
    url: `${origin}${BASE_PATH}`,
    origin,
    port,
    close() {
      closing ??= (async () => {
        state.jobs.close();
        for (const socket of hung) socket.destroy();
        await app.close();
      })();
      return closing;
    },
    reset: () => state.reset(),
    setFault: (route, fault) => state.faults.set({ ...fault, route } satisfies FaultRule),
    clearFaults: () => state.faults.clear(),
    ledger: () => ledgerSummary(state),
    ledgerEntries: (filter) => ledgerEntries(state, filter),
    duplicates: () => duplicateKeys(state),
    mergedMessage: (sendmailId) => mergedMessage(state, sendmailId)?.merged,
    seedLedger: (seedOptions) => seedLedger(state, seedOptions),
    advanceClock: (seconds) => {
      state.clock.offsetMs += seconds * 1000;
    },
    settleEvents: () => settleEvents(state),
    setReportLag: (ms) => setReportSettings(state, { reportLagMs: ms }),
    setReportDisorder: ({ futureEventRate, futureEventMs, shuffleReports }) =>
      setReportSettings(state, { futureEventRate, futureEventMs, shuffleReports }),
    reportSettings: () => ({ ...state.report }),
    setExportFilename: (filename) => {
      state.jobs.filenameOverride = filename;
    },
  };
}
