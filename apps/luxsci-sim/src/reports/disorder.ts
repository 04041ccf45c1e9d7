import { hash32, hashIndex } from "@luxrelay/sim-kit";
import type { Ledger } from "../ledger.ts";
import type { ReportKind } from "./headers.ts";
import type { ReportSettings } from "./settings.ts";

// The two report disorders (reports/settings.ts), both drawn from the seed so a run repeats.

const SHUFFLE_BUCKETS = 256;

/**
 * The order a shuffled report walks the ledger: by a hash bucket of the message's index, then
 * by index. Rows leave date order, yet each row's place depends only on its own identity, so
 * paging with first_row sees every row once while the visible rows stay the same (a message
 * sent later goes to the end of its bucket). A counting sort: one Int32Array per scan (4 MB
 * for a million messages) and two passes, where sorting by a full hash would cost a sort.
 */
export function shuffledOrder(length: number, seed: number): Int32Array {
  const buckets = new Uint8Array(length);
  const starts = new Int32Array(SHUFFLE_BUCKETS + 1);
  for (let i = 0; i < length; i++) {
    const bucket = hashIndex(i, seed) % SHUFFLE_BUCKETS;
    buckets[i] = bucket;
    starts[bucket + 1] = (starts[bucket + 1] as number) + 1;
  }
  for (let b = 0; b < SHUFFLE_BUCKETS; b++) {
    starts[b + 1] = (starts[b + 1] as number) + (starts[b] as number);
  }
  const order = new Int32Array(length);
  for (let i = 0; i < length; i++) {
    const bucket = buckets[i] as number;
    const at = starts[bucket] as number;
    order[at] = i;
    starts[bucket] = at + 1;
  }
  return order;
}

/**
 * The date a row shows. A "future" row (delivery, open or click; chosen by seed, sendmail id,
 * report and ordinal) appears at eventMs + reportLagMs like any other, but is dated
 * futureEventMs after that moment: ahead of LuxSci's clock when first seen.
 */
export function shownDateMs(
  kind: ReportKind,
  eventMs: number,
  ledger: Ledger,
  index: number,
  ordinal: number,
  seed: number,
  settings: ReportSettings,
): number {
  if (settings.futureEventRate === 0 || kind === "sent" || kind === "fbl") return eventMs;
  const draw = hash32(`${ledger.sendmailId(index)}/${kind}/${ordinal}/future`, seed) / 2 ** 32;
  return draw < settings.futureEventRate
    ? eventMs + settings.reportLagMs + settings.futureEventMs
    : eventMs;
}
