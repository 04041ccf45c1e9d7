import { type EventType, FAILURE_TYPES } from "../import/map-row.ts";
import type { EngagementCounts } from "../metrics/contact-engagement.ts";
import { OFFER_HISTORY_PRECEDENCE } from "./offer-history.ts";
import { SUPPRESSION_SOURCES } from "./suppression.ts";

// One pass over a channel's new events (seed 000 inbound steps 8-9, engagement): everything
// offer history, suppression and contact_engagement need, summed per recipient, per address
// and per (address, suppression source). Done here rather than in SQL because the hour
// histograms are 48 counters per address: as FILTERed aggregates PostgreSQL evaluated 48
// conditions per event (~3 s per million opens and clicks on the bench machine), here a
// histogram cell is an array index. Every sum is order-independent (max rank, earliest and
// latest times, counts), so events may come in any order and in any number of passes.

const HOUR_MS = 3_600_000;
const HOURS_PER_DAY = 24;

/** Offer history state rank, 1-based as array_position() gives it (sent = 1). */
const RANK: Record<EventType, number> = Object.fromEntries(
  OFFER_HISTORY_PRECEDENCE.map((state, i) => [state, i + 1]),
) as Record<EventType, number>;

const FAILURES: ReadonlySet<EventType> = new Set(FAILURE_TYPES);

/** The new events of one (execution, contact): an offer_history row's worth. */
export interface RecipientSums {
  executionId: number;
  contactId: string;
  /** The smallest address among the events; null when none had one. */
  email: string | null;
  /** Highest OFFER_HISTORY_PRECEDENCE rank, 1-based. */
  rank: number;
  /** Earliest time (ms) of each, or null. */
  sentMs: number | null;
  deliveredMs: number | null;
  openedMs: number | null;
  clickedMs: number | null;
  /** failed, hard_fail or spam. */
  failedMs: number | null;
  opens: number;
  clicks: number;
}

/** The new events of one address: a contact_engagement row's worth. */
export interface AddressSums extends EngagementCounts {
  email: string;
  firstMs: number;
  lastMs: number;
  /** Opens / clicks per UTC hour of day; null when there were none. */
  openHours: Int32Array | null;
  clickHours: Int32Array | null;
}

/** The earliest event that suppresses an address for a source. */
export interface SuppressionCandidate {
  email: string;
  source: (typeof SUPPRESSION_SOURCES)[keyof typeof SUPPRESSION_SOURCES];
  reason: string | null;
  atMs: number;
}

/** One new event as the apply step reads it from email_event. */
export interface AppliedEvent {
  type: EventType;
  executionId: number | null;
  contactId: string | null;
  /** Lowercased recipient address; null or "" when the report had none. */
  email: string | null;
  occurredMs: number;
  /** Delivery status or feedback type; read for the types that suppress only. */
  status: string | null;
  /** The remote server's reply; read for failures only. */
  details: string | null;
}

function earlier(current: number | null, ms: number): number {
  return current === null || ms < current ? ms : current;
}

/** Why an address is suppressed, as seed 000 step 9 words it. */
export function suppressionReason(
  type: keyof typeof SUPPRESSION_SOURCES,
  status: string | null,
  details: string | null,
): string | null {
  if (type === "complaint") return `Feedback loop complaint${status ? ` (${status})` : ""}`;
  if (type === "unsubscribed") return "Unsubscribed (delivery report)";
  return details ?? status;
}

export class EventSums {
  /** Per execution, per contact id (nested: no key to build per event). */
  private readonly byExecution = new Map<number, Map<string, RecipientSums>>();
  readonly addresses = new Map<string, AddressSums>();
  readonly suppressions = new Map<string, SuppressionCandidate>();
  events = 0;

  add(event: AppliedEvent): void {
    this.events++;
    const { type, occurredMs: ms } = event;
    const email = event.email === "" ? null : event.email;
    if (event.executionId !== null && event.contactId !== null) {
      this.addToRecipient(event.executionId, event.contactId, email, type, ms);
    }
    if (email === null) return;
    this.addToAddress(email, type, ms);
    const source = SUPPRESSION_SOURCES[type as keyof typeof SUPPRESSION_SOURCES];
    if (source !== undefined) {
      const key = `${source}:${email}`;
      const seen = this.suppressions.get(key);
      if (seen === undefined || ms < seen.atMs) {
        const reason = suppressionReason(
          type as keyof typeof SUPPRESSION_SOURCES,
          event.status,
          event.details,
        );
        this.suppressions.set(key, { email, source, reason, atMs: ms });
      }
    }
  }

  /** The sums of every (execution, contact). */
  *recipients(): Generator<RecipientSums> {
    for (const contacts of this.byExecution.values()) yield* contacts.values();
  }

  private addToRecipient(
    executionId: number,
    contactId: string,
    email: string | null,
    type: EventType,
    ms: number,
  ): void {
    let contacts = this.byExecution.get(executionId);
    if (contacts === undefined) {
      contacts = new Map();
      this.byExecution.set(executionId, contacts);
    }
    let sums = contacts.get(contactId);
    if (sums === undefined) {
      sums = {
        executionId,
        contactId,
        email,
        rank: 0,
        sentMs: null,
        deliveredMs: null,
        openedMs: null,
        clickedMs: null,
        failedMs: null,
        opens: 0,
        clicks: 0,
      };
      contacts.set(contactId, sums);
    } else if (email !== null && (sums.email === null || email < sums.email)) {
      sums.email = email;
    }
    const rank = RANK[type];
    if (rank > sums.rank) sums.rank = rank;
    if (type === "sent") sums.sentMs = earlier(sums.sentMs, ms);
    else if (type === "delivered") sums.deliveredMs = earlier(sums.deliveredMs, ms);
    else if (type === "opened") {
      sums.openedMs = earlier(sums.openedMs, ms);
      sums.opens++;
    } else if (type === "clicked") {
      sums.clickedMs = earlier(sums.clickedMs, ms);
      sums.clicks++;
    } else if (FAILURES.has(type)) sums.failedMs = earlier(sums.failedMs, ms);
  }

  private addToAddress(email: string, type: EventType, ms: number): void {
    let sums = this.addresses.get(email);
    if (sums === undefined) {
      sums = {
        email,
        sent: 0,
        delivered: 0,
        opened: 0,
        clicked: 0,
        failed: 0,
        complaint: 0,
        unsubscribed: 0,
        firstMs: ms,
        lastMs: ms,
        openHours: null,
        clickHours: null,
      };
      this.addresses.set(email, sums);
    } else {
      if (ms < sums.firstMs) sums.firstMs = ms;
      if (ms > sums.lastMs) sums.lastMs = ms;
    }
    switch (type) {
      case "sent":
        sums.sent++;
        break;
      case "delivered":
        sums.delivered++;
        break;
      case "opened":
        sums.opened++;
        sums.openHours = countHour(sums.openHours, ms);
        break;
      case "clicked":
        sums.clicked++;
        sums.clickHours = countHour(sums.clickHours, ms);
        break;
      case "complaint":
        sums.complaint++;
        break;
      case "unsubscribed":
        sums.unsubscribed++;
        break;
      default:
        sums.failed++;
    }
  }
}

/** `hours` (a new histogram when null) with one more event in the hour of `ms`. */
function countHour(hours: Int32Array | null, ms: number): Int32Array {
  const histogram = hours ?? new Int32Array(HOURS_PER_DAY);
  const hour = utcHour(ms);
  histogram[hour] = (histogram[hour] ?? 0) + 1;
  return histogram;
}

/** UTC hour of day (0-23) of an instant, also before 1970. */
export function utcHour(ms: number): number {
  const hour = Math.floor(ms / HOUR_MS) % HOURS_PER_DAY;
  return hour < 0 ? hour + HOURS_PER_DAY : hour;
}
