import { type LuxSciClient, LuxSciError, SERVER_CLOCK_UNCERTAINTY_MS } from "@luxrelay/luxsci";
import { findAlreadySent } from "./reconcile.ts";

// Exactly once, whatever the reply (docs/reliability.md). A send call whose outcome is unknown
// (a timeout, a reset, 500/502/504, a lost or garbled reply, a worker that died in the call)
// may have been accepted by LuxSci, and LuxSci builds its sent report asynchronously: a report
// read right after such a call can miss what it sent. So nothing of it is sent again until
// the call is *settled*:
//
// - before every call, the batch (or realtime recipient) is marked unsettled, in LuxSci's
//   time, with a deadline `settleAfter` = start + the longest the call can run (twice the
//   client timeout: headers, then body) + LUXSCI_REPORT_LAG_MS: a worker that dies in the call
//   leaves that mark behind;
// - an answer settles it at once (success: the sendmail ids; a refusal LuxSci answered
//   before handling: nothing was sent); an unknown outcome moves the deadline to the call's
//   end + LUXSCI_REPORT_LAG_MS;
// - a later run reads the sent report for the chids: when every one is there, it is settled
//   (nothing to send); otherwise it is settled only once LuxSci's clock, read from the
//   report's own reply, has passed the deadline: then the chids still missing were never
//   accepted and are sent. Before that the job waits (a delayed job, no attempt used).
//
// Every moment here is LuxSci's (its Date header, packages/luxsci ServerClock), never the
// host's: the hosts that write and read the mark may disagree with LuxSci and each other.

export interface SettleRule {
  /** LUXSCI_REPORT_LAG_MS: the longest LuxSci takes to show a call's effect in its reports. */
  reportLagMs: number;
  /** The client's timeout (LUXSCI_TIMEOUT_MS): a call can't run longer than twice this. */
  callTimeoutMs: number;
}

/** An unsettled call: when it began and when the sent report can be trusted to show it. */
export interface Unsettled {
  since: Date;
  settleAfter: Date;
}

/** The sent report is read from a little before the call: LuxSci dates rows to the second. */
const WINDOW_SLACK_MS = 60_000;

/** The mark written just before a call, from LuxSci's time now. */
export function markBeforeCall(serverNow: Date, rule: SettleRule): Unsettled {
  const settleAfter =
    serverNow.getTime() + 2 * rule.callTimeoutMs + rule.reportLagMs + SERVER_CLOCK_UNCERTAINTY_MS;
  return { since: serverNow, settleAfter: new Date(settleAfter) };
}

/**
 * The mark of a send call that failed: null when LuxSci certainly did not act on it (nothing
 * was sent: the mark goes), else the call's deadline counted from its end on LuxSci's clock
 * (the mark stays; the one written before the call allowed for the longest call).
 */
export function settleAfterFailedCall(
  error: unknown,
  client: LuxSciClient,
  rule: SettleRule,
): Date | null {
  if (error instanceof LuxSciError && error.refused) return null;
  const endedAt = client.serverNow()?.getTime() ?? Date.now();
  return new Date(endedAt + rule.reportLagMs + SERVER_CLOCK_UNCERTAINTY_MS);
}

export type SettleOutcome =
  /** chid -> sendmail id of what LuxSci has; the rest were never accepted and may be sent. */
  | { settled: true; found: Map<string, string> }
  /** Not yet: what the report shows so far, and how long (ms) until the deadline. */
  | { settled: false; found: Map<string, string>; waitMs: number };

/**
 * What LuxSci's sent report holds of `chids` (chid filter `chidPrefix`) since a little before
 * `since`, and LuxSci's time as the read began (its first reply's Date): every row was read at
 * or after `readFrom`, so a deadline at or before it is one the whole read can be trusted for.
 */
export async function readSentReport(
  client: LuxSciClient,
  options: { chidPrefix: string; chids: ReadonlySet<string>; since: Date },
): Promise<{ found: Map<string, string>; readFrom: Date }> {
  // Only when LuxSci's replies carry no Date header: the host's clock, as the read began.
  const startedMs = Date.now() - SERVER_CLOCK_UNCERTAINTY_MS;
  const { found, readFrom } = await findAlreadySent(client, {
    chidPrefix: options.chidPrefix,
    chids: options.chids,
    afterDate: new Date(options.since.getTime() - WINDOW_SLACK_MS),
  });
  return { found, readFrom: readFrom ?? new Date(startedMs) };
}

/** Whether one unsettled call is settled: everything found, or its deadline passed. */
export async function settleUnsettled(
  client: LuxSciClient,
  options: { chidPrefix: string; chids: ReadonlySet<string>; unsettled: Unsettled },
): Promise<SettleOutcome> {
  const { unsettled } = options;
  if (options.chids.size === 0) return { settled: true, found: new Map() };
  const { found, readFrom } = await readSentReport(client, { ...options, since: unsettled.since });
  if (found.size >= options.chids.size) return { settled: true, found };
  const waitMs = unsettled.settleAfter.getTime() - readFrom.getTime();
  return waitMs <= 0 ? { settled: true, found } : { settled: false, found, waitMs };
}
