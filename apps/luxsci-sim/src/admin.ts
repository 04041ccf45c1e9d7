import { createHash } from "node:crypto";
import type { FaultRule } from "./faults.ts";
import type { LedgerEntry } from "./ledger.ts";
import type { MergedMessage } from "./merge.ts";
import { parseReportSettings, type ReportSettings } from "./reports/settings.ts";
import type { SimState } from "./state.ts";

// The admin operations behind /__sim/* and the in-process handle: what tests and the demo
// use to prove exactly-once (ledger), to break the API on purpose (faults) and to move time.

export interface LedgerSummary {
  total: number;
  /** Of total, accepted with sandbox: 1 (never delivered). */
  sandbox: number;
  /** Entries whose (to, chid) had been accepted before. */
  duplicates: number;
  /** Distinct (to, chid) pairs accepted more than once. */
  duplicateKeys: number;
}

export interface DuplicateKey {
  chid: string;
  to: string;
  count: number;
}

export interface SeedLedgerOptions {
  /** Which account (user name); default the first. */
  user?: string;
  count: number;
  /** chid = `${chidPrefix}${i}`; default "seed_". */
  chidPrefix?: string;
  /** Send time of every seeded entry; default now. */
  sentAtMs?: number;
}

export function ledgerSummary(state: SimState): LedgerSummary {
  const { ledger } = state;
  return {
    total: ledger.length,
    sandbox: ledger.sandboxCount,
    duplicates: ledger.duplicates,
    duplicateKeys: ledger.duplicateKeys.size,
  };
}

export function duplicateKeys(state: SimState): DuplicateKey[] {
  const { ledger } = state;
  return [...ledger.duplicateKeys].map(([first, count]) => ({
    chid: ledger.chid.get(first) as string,
    to: ledger.toOf(first),
    count,
  }));
}

export function ledgerEntries(
  state: SimState,
  filter: { chids?: string[]; sendmailIds?: string[]; offset?: number; limit?: number },
): LedgerEntry[] {
  const { ledger } = state;
  let indexes: number[];
  if (filter.chids?.length) {
    indexes = ledger.findByChids(new Set(filter.chids));
  } else if (filter.sendmailIds?.length) {
    indexes = filter.sendmailIds.map((id) => ledger.indexOf(id)).filter((i) => i >= 0);
  } else {
    const offset = filter.offset ?? 0;
    const end = Math.min(ledger.length, offset + (filter.limit ?? 100));
    indexes = [];
    for (let i = offset; i < end; i++) indexes.push(i);
  }
  return indexes.map((i) => ledger.entry(i));
}

export function mergedMessage(
  state: SimState,
  sendmailId: string,
): { entry: LedgerEntry; merged: MergedMessage | null } | undefined {
  const index = state.ledger.indexOf(sendmailId);
  if (index < 0) return undefined;
  return { entry: state.ledger.entry(index), merged: state.ledger.mergedMessage(index) ?? null };
}

/** Appends synthetic accepted messages quickly (report paging tests, benchmarks). */
export function seedLedger(state: SimState, options: SeedLedgerOptions): string[] {
  const account =
    state.options.accounts.find((a) => a.user === options.user) ?? state.options.accounts[0];
  if (!account) throw new Error("no account");
  const prefix = options.chidPrefix ?? "seed_";
  const sentAtMs = options.sentAtMs ?? state.clock.nowMs();
  const merged: MergedMessage = { subject: "Seeded message", html: "<p>seed</p>", text: "seed" };
  const hash = createHash("sha256").update("seeded").digest();
  const ids: string[] = [];
  for (let i = 0; i < options.count; i++) {
    ids.push(
      state.ledger.append({
        accountIndex: account.index,
        to: [`seed${i}@example.com`],
        headers: [
          ["chid", `${prefix}${i}`],
          ["rpid", "M"],
          ["offername", "Seeded"],
        ],
        templateId: null,
        subject: merged.subject,
        from: "dev@example.com",
        sizeBytes: 1024,
        hash,
        sentAtMs,
        merged,
      }),
    );
  }
  return ids;
}

/** The longest any event can take after its send: moving the clock this far shows them all. */
export function maxEventDelayMs(state: SimState): number {
  const { delays, scale } = state.model;
  return Math.ceil(
    (delays.deliveryMs[1] +
      Math.max(
        3 * delays.openMs[1] + delays.clickMs[1],
        delays.fblMs[1],
        delays.unsubscribeMs[1],
      )) *
      scale,
  );
}

/** Moves the clock so every event of every message so far shows in the reports, lag included. */
export function settleEvents(state: SimState): void {
  state.clock.offsetMs += maxEventDelayMs(state) + state.report.reportLagMs + 1000;
}

/** Changes some report settings (checked; throws with the bad field's name); returns them all. */
export function setReportSettings(
  state: SimState,
  update: Partial<Record<keyof ReportSettings, unknown>>,
): ReportSettings {
  state.report = { ...state.report, ...parseReportSettings(update) };
  return { ...state.report };
}

export function setFault(state: SimState, rule: FaultRule): void {
  state.faults.set(rule);
}
