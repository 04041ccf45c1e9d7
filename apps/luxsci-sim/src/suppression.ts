import { formatGmt } from "./clock.ts";
import { detailEvents } from "./events.ts";
import type { ResolvedAccount } from "./options.ts";
import type { ScanContext } from "./reports/scan.ts";

// Seed 000 inbound step 10: GET /suppression lists the addresses LuxSci will no longer mail:
// those that used the unsubscribe link and those that complained through a feedback loop.
// Rows: [email, 0, account, id, uid, "YYYY-MM-DD HH:MM:SS", reason], one per address (its
// first suppression).

// Seed 000's example row id is 28594; ours count from there by ledger position.
const FIRST_SUPPRESSION_ID = 28_594;

export function suppressionRows(
  context: ScanContext,
  account: ResolvedAccount,
): (string | number)[][] {
  const { ledger, model, nowMs } = context;
  const firstByEmail = new Map<string, { atMs: number; row: (string | number)[] }>();
  const add = (i: number, atMs: number, reason: () => string) => {
    const to = ledger.toOf(i);
    const email = (to.split(",")[0] as string).toLowerCase();
    const known = firstByEmail.get(email);
    if (known && known.atMs <= atMs) return;
    const row = [
      email,
      0,
      account.account,
      FIRST_SUPPRESSION_ID + i,
      account.uid,
      formatGmt(atMs),
      reason(),
    ];
    firstByEmail.set(email, { atMs, row });
  };
  for (let i = 0; i < ledger.length; i++) {
    if (ledger.accountIndex[i] !== context.accountIndex || ledger.sandbox[i] === 1) continue;
    const sentAt = ledger.sentAtMs[i] as number;
    const unsubscribe = ledger.unsubscribeMs[i] as number;
    if (unsubscribe >= 0 && sentAt + unsubscribe <= nowMs) {
      add(i, sentAt + unsubscribe, () => {
        const { unsubscribeIp } = detailEvents(model, ledger.sendmailId(i), ledger.toOf(i), sentAt);
        return `Unsubscribe link used from ${unsubscribeIp}`;
      });
    }
    const complaint = ledger.fblMs[i] as number;
    if (complaint >= 0 && sentAt + complaint <= nowMs) {
      add(i, sentAt + complaint, () => "Feedback loop complaint (abuse)");
    }
  }
  return [...firstByEmail.values()].sort((a, b) => a.atMs - b.atMs).map(({ row }) => row);
}
