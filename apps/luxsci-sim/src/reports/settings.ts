// How reports show what happened (options, POST /__sim/report-lag and /__sim/report-disorder):
// LuxSci builds its reports asynchronously, so a row appears only some time after its own date;
// and its rows may come out of date order, some dated ahead of LuxSci's clock. Inbound tests
// turn these on to prove luxrelay's cursors survive them.

export interface ReportSettings {
  /** A row dated D appears in pages and exports once the simulated clock is at D + this. */
  reportLagMs: number;
  /** Of delivery, open and click rows: the fraction dated `futureEventMs` after they appear. */
  futureEventRate: number;
  /** How far ahead of the moment it appears a "future" row is dated. */
  futureEventMs: number;
  /** Rows in a stable order that is not by date (hash bucket of the message, then send order). */
  shuffleReports: boolean;
}

export const DEFAULT_REPORT_SETTINGS: ReportSettings = {
  reportLagMs: 0,
  futureEventRate: 0,
  futureEventMs: 3_600_000,
  shuffleReports: false,
};

function nonNegative(value: unknown, name: string): number {
  const number = typeof value === "number" ? value : Number.NaN;
  if (!Number.isFinite(number) || number < 0) {
    throw new Error(`${name} must be a non-negative number`);
  }
  return number;
}

/** Checks a partial update (admin body, option, setter); throws with the bad field's name. */
export function parseReportSettings(value: Partial<Record<keyof ReportSettings, unknown>>) {
  const settings: Partial<ReportSettings> = {};
  if (value.reportLagMs !== undefined) {
    settings.reportLagMs = nonNegative(value.reportLagMs, "reportLagMs");
  }
  if (value.futureEventRate !== undefined) {
    const rate = nonNegative(value.futureEventRate, "futureEventRate");
    if (rate > 1) throw new Error("futureEventRate must be between 0 and 1");
    settings.futureEventRate = rate;
  }
  if (value.futureEventMs !== undefined) {
    settings.futureEventMs = nonNegative(value.futureEventMs, "futureEventMs");
  }
  if (value.shuffleReports !== undefined) {
    if (typeof value.shuffleReports !== "boolean") {
      throw new Error("shuffleReports must be true or false");
    }
    settings.shuffleReports = value.shuffleReports;
  }
  return settings;
}
