import type { LuxSciCell, ReportKind, ReportRow } from "@luxrelay/luxsci";
import { parseChid } from "./chid.ts";
import { parseWallTime, type WallClock } from "./dates.ts";

// One report row -> the email_event rows it stands for (seed 000 inbound step 8), before the
// database decides which are this channel's (tracking join) and which are new (unique key).

/** email_event types an import writes (the `event_type` enum). */
export type EventType =
  | "sent"
  | "delivered"
  | "failed"
  | "hard_fail"
  | "spam"
  | "opened"
  | "clicked"
  | "complaint"
  | "unsubscribed";

/** The types that are a failed delivery: counted together as `failed` (metrics, engagement). */
export const FAILURE_TYPES: readonly EventType[] = ["failed", "hard_fail", "spam"];

/** `types` as an SQL list of enum literals: ('failed', 'hard_fail', 'spam'). */
export function sqlTypeList(types: readonly string[]): string {
  return `(${types.map((type) => `'${type}'`).join(", ")})`;
}

/** The report column holding each kind's event date (contract "Reports"). */
export const DATE_COLUMN: Record<ReportKind, string> = {
  sent: "date_sent",
  delivery: "last_updated",
  opens: "open_date",
  clicks: "click_date",
  fbl: "complaint_date",
};

// Delivery report `status` values (seed 000; the simulator's STATUSES), matched without case.
const DELIVERY_TYPES = new Map<string, EventType>([
  ["delivered", "delivered"],
  ["hardfail", "hard_fail"],
  ["failed", "failed"],
  ["spam", "spam"],
]);

const KIND_TYPES: Record<Exclude<ReportKind, "delivery">, EventType> = {
  sent: "sent",
  opens: "opened",
  clicks: "clicked",
  fbl: "complaint",
};

/** Columns of the staging table, in the order of a StagedEvent. */
export const STAGE_COLUMNS = [
  "sendmail_id",
  "type",
  "occurred_ms",
  "email",
  "execution_id",
  "offer_id",
  "contact_id",
  "chid",
  "status",
  "details",
  "url",
  "ip",
  "user_agent",
  "ordinal",
] as const;

export type StagedEvent = [
  sendmailId: string,
  type: EventType,
  occurredMs: number,
  email: string | null,
  executionId: number,
  offerId: number,
  contactId: string,
  chid: string,
  status: string | null,
  details: string | null,
  url: string | null,
  ip: string | null,
  userAgent: string | null,
  /** Opens and clicks: set by the import (OccurrenceCounter); 0 for the other types. */
  ordinal: number,
];

/** Where a StagedEvent holds its ordinal. */
export const ORDINAL = 13;

export type MappedRow =
  | { outcome: "events"; events: StagedEvent[]; occurredMs: number }
  | { outcome: "notOurs"; occurredMs: number }
  | { outcome: "problem"; field: string; message: string };

/** A cell as text; null for null, undefined and empty (an empty CSV field). */
export function cellText(cell: LuxSciCell | undefined): string | null {
  if (cell === null || cell === undefined) return null;
  const text = typeof cell === "string" ? cell : String(cell);
  return text === "" ? null : text;
}

// Tracked headers header1..3 name the account's headers, chid first (seed 000 "LuxSci
// configuration"); looked for in every slot in case an account lists it elsewhere.
const TRACKED_SLOTS = [
  ["header1", "header1_value"],
  ["header2", "header2_value"],
  ["header3", "header3_value"],
] as const;

/**
 * Every report column mapReportRow reads, whatever the kind: an export file's reader need keep
 * no other (readReportCsv's `columns`).
 */
export const IMPORTED_COLUMNS: readonly string[] = [
  "sendmail_id",
  ...new Set(Object.values(DATE_COLUMN)),
  "to",
  "status",
  "details",
  "Unsubscribed",
  "opener_ip",
  "clicker_ip",
  "user_agent",
  "url",
  "feedback_type",
  ...TRACKED_SLOTS.flat(),
];

function chidOf(row: ReportRow): string | null {
  for (const [nameColumn, valueColumn] of TRACKED_SLOTS) {
    const name = row[nameColumn];
    if (typeof name === "string" && name.toLowerCase() === "chid") {
      return cellText(row[valueColumn]);
    }
  }
  return null;
}

function problem(field: string, message: string): MappedRow {
  return { outcome: "problem", field, message };
}

/** Maps one report row of `kind`; `channelId` decides which chids are this channel's. */
export function mapReportRow(
  kind: ReportKind,
  row: ReportRow,
  channelId: string,
  clock: WallClock,
): MappedRow {
  const sendmailId = cellText(row.sendmail_id);
  if (sendmailId === null) return problem("sendmail_id", "missing");
  const dateColumn = DATE_COLUMN[kind];
  const dateText = cellText(row[dateColumn]);
  if (dateText === null) return problem(dateColumn, "missing");
  const wallMs = parseWallTime(dateText);
  if (wallMs === null) {
    return problem(dateColumn, `not a "YYYY-MM-DD HH:MM:SS" date: "${dateText.slice(0, 40)}"`);
  }
  const occurredMs = clock.toInstant(wallMs);
  let type: EventType;
  let status: string | null = null;
  let details: string | null = null;
  if (kind === "delivery") {
    status = cellText(row.status);
    const mapped = status === null ? undefined : DELIVERY_TYPES.get(status.toLowerCase());
    if (mapped === undefined) {
      return problem("status", status === null ? "missing" : `unknown status "${status}"`);
    }
    type = mapped;
    details = cellText(row.details);
  } else {
    type = KIND_TYPES[kind];
    if (kind === "fbl") status = cellText(row.feedback_type);
  }

  const chid = chidOf(row);
  const parsed = chid === null ? null : parseChid(chid);
  if (chid === null || parsed === null || parsed.channelId !== channelId) {
    return { outcome: "notOurs", occurredMs };
  }
  const to = cellText(row.to);
  const email = to === null ? null : to.trim().toLowerCase();
  const ip =
    kind === "opens"
      ? cellText(row.opener_ip)
      : kind === "clicks"
        ? cellText(row.clicker_ip)
        : null;
  const userAgent = kind === "opens" || kind === "clicks" ? cellText(row.user_agent) : null;
  const url = kind === "clicks" ? cellText(row.url) : null;
  const event: StagedEvent = [
    sendmailId,
    type,
    occurredMs,
    email,
    parsed.executionId,
    parsed.offerId,
    parsed.contactId,
    chid,
    status,
    details,
    url,
    ip,
    userAgent,
    0,
  ];
  const events = [event];
  // The delivery report counts a message's unsubscribes (seed 000 `Unsubscribed`); the
  // unsubscribe itself has no row of its own, so it is dated by the row's last_updated.
  if (kind === "delivery" && Number(row.Unsubscribed ?? 0) > 0) {
    events.push([
      sendmailId,
      "unsubscribed",
      occurredMs,
      email,
      parsed.executionId,
      parsed.offerId,
      parsed.contactId,
      chid,
      status,
      details,
      null,
      null,
      null,
      0,
    ]);
  }
  return { outcome: "events", events, occurredMs };
}
