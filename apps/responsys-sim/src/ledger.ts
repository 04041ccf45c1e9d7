// Every successful trigger, in order (the issue: "a ledger of every trigger (duplicates
// counted)"). Responsys has no idempotency key, so a retried trigger sends again: the duplicate
// count is what a client that re-triggers an unknown outcome would be caught by. A duplicate is
// the same (account, campaign, RIID) triggered more than once.

export interface TriggerEntry {
  index: number;
  accountIndex: number;
  campaign: string;
  riid: number;
  emailAddress: string;
  listName: string;
  optionalData: Record<string, string>;
  triggeredAt: number;
}

export interface DuplicateKey {
  campaign: string;
  riid: number;
  emailAddress: string;
  count: number;
}

export interface LedgerSummary {
  total: number;
  duplicates: number;
  duplicateKeys: number;
}

export class TriggerLedger {
  readonly entries: TriggerEntry[] = [];
  private readonly counts = new Map<string, number>();
  private duplicateCount = 0;

  add(entry: Omit<TriggerEntry, "index">): TriggerEntry {
    const full = { ...entry, index: this.entries.length };
    this.entries.push(full);
    const key = `${entry.accountIndex}\0${entry.campaign}\0${entry.riid}`;
    const count = (this.counts.get(key) ?? 0) + 1;
    this.counts.set(key, count);
    if (count > 1) this.duplicateCount++;
    return full;
  }

  /** `duplicates`: triggers beyond the first per key; `duplicateKeys`: keys triggered twice+. */
  summary(): LedgerSummary {
    let keys = 0;
    for (const count of this.counts.values()) if (count > 1) keys++;
    return { total: this.entries.length, duplicates: this.duplicateCount, duplicateKeys: keys };
  }

  duplicates(): DuplicateKey[] {
    const out: DuplicateKey[] = [];
    const seen = new Set<string>();
    for (const entry of this.entries) {
      const key = `${entry.accountIndex}\0${entry.campaign}\0${entry.riid}`;
      const count = this.counts.get(key) ?? 0;
      if (count < 2 || seen.has(key)) continue;
      seen.add(key);
      out.push({
        campaign: entry.campaign,
        riid: entry.riid,
        emailAddress: entry.emailAddress,
        count,
      });
    }
    return out;
  }

  clear(): void {
    this.entries.length = 0;
    this.counts.clear();
    this.duplicateCount = 0;
  }
}
