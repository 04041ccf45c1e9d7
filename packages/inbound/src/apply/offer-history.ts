import type pg from "pg";
import { type CopyCell, copyIntoTempTable, type TempColumn } from "../import/copy-stage.ts";
import { fromEpochMs } from "../import/epoch-ms.ts";
import type { RecipientSums } from "./aggregate.ts";

// Offer History State (seed 000 inbound step 8): one row per recipient of an execution.
//
// Precedence: a state only moves to a higher rank, whatever order the reports arrive in:
//   sent < delivered < opened < clicked < failed < hard_fail < spam < unsubscribed < complaint
// Positive states follow the message's life (a click implies an open implies a delivery).
// Any failure or recipient refusal outranks every positive state: it is what decides whether
// the address may be mailed again (suppression, step 9), so an open recorded before a bounce
// or an unsubscribe must not hide it. Among them the more definitive wins: a soft failure
// (Failed) < a permanent bounce (HardFail) < a spam rejection; the recipient's own acts come
// last, an unsubscribe below a complaint, the strongest signal a mailbox owner can give.
export const OFFER_HISTORY_PRECEDENCE = [
  "sent",
  "delivered",
  "opened",
  "clicked",
  "failed",
  "hard_fail",
  "spam",
  "unsubscribed",
  "complaint",
] as const;

const RANKS = `'{${OFFER_HISTORY_PRECEDENCE.join(",")}}'::offer_history_state[]`;

const AT_COLUMNS = ["sent_at", "delivered_at", "opened_at", "clicked_at", "failed_at"] as const;
const SUMS_TABLE = "lr_apply_recipients";
const SUMS_COLUMNS: readonly TempColumn[] = [
  ["execution_id", "integer NOT NULL"],
  ["contact_id", "text NOT NULL"],
  ["email", "text"],
  ["rank", "integer NOT NULL"],
  ...AT_COLUMNS.map((column): TempColumn => [column.replace("_at", "_ms"), "bigint"]),
  ["opens", "integer NOT NULL"],
  ["clicks", "integer NOT NULL"],
];

function sumsRow(sums: RecipientSums): CopyCell[] {
  return [
    sums.executionId,
    sums.contactId,
    sums.email,
    sums.rank,
    sums.sentMs,
    sums.deliveredMs,
    sums.openedMs,
    sums.clickedMs,
    sums.failedMs,
    sums.opens,
    sums.clicks,
  ];
}

/**
 * Applies the new events' sums per (execution, contact) to offer_history: state by
 * precedence, each *_at the earliest seen, opens/clicks counters incremented. Each event is
 * summed once (apply/apply-events.ts), so adding is exact.
 *
 * The sums are COPYed into a temp table; then existing rows are UPDATEd (only those the sums
 * change: a delivery LuxSci lists for a contact already delivered earlier changes nothing)
 * and missing ones INSERTed, in one statement. Cheaper than INSERT ... ON CONFLICT DO UPDATE,
 * which probes the key, locks (a WAL record) and then updates every row. Safe without
 * ON CONFLICT because the channel's applies are serialised (an advisory lock) and an execution
 * belongs to one channel: nothing else writes these rows meanwhile (if something did, the
 * INSERT's unique violation fails the apply, which is retried; nothing is lost).
 * Returns how many rows were created.
 */
export async function applyOfferHistory(
  client: pg.ClientBase,
  channelId: string,
  recipients: Iterable<RecipientSums>,
): Promise<number> {
  const copied = await copyIntoTempTable(client, SUMS_TABLE, SUMS_COLUMNS, recipients, sumsRow);
  if (copied === 0) return 0;
  const changes = [
    `g.rank > array_position(${RANKS}, h.state)`,
    ...AT_COLUMNS.map((column) => `g.${column} < COALESCE(h.${column}, 'infinity')`),
    "g.opens > 0",
    "g.clicks > 0",
  ];
  const at = (column: string) => `${fromEpochMs(`s.${column.replace("_at", "_ms")}`)} AS ${column}`;
  const result = await client.query(
    `WITH g AS (
       SELECT s.execution_id, s.contact_id, t.offer_id, s.email, s.rank,
              ${AT_COLUMNS.map(at).join(",\n              ")},
              s.opens, s.clicks
         FROM ${SUMS_TABLE} s JOIN tracking t ON t.execution_id = s.execution_id
     ), updated AS (
       UPDATE offer_history h SET
         state = CASE WHEN g.rank > array_position(${RANKS}, h.state)
                      THEN (${RANKS})[g.rank] ELSE h.state END,
         ${AT_COLUMNS.map((column) => `${column} = LEAST(h.${column}, g.${column})`).join(",\n         ")},
         opens = h.opens + g.opens,
         clicks = h.clicks + g.clicks,
         updated_at = now()
         FROM g
        WHERE h.execution_id = g.execution_id AND h.contact_id = g.contact_id
          AND (${changes.join("\n               OR ")})
     )
     INSERT INTO offer_history (execution_id, offer_id, channel_id, contact_id, email, state,
                                sent_at, delivered_at, opened_at, clicked_at, failed_at,
                                opens, clicks, updated_at)
     SELECT g.execution_id, g.offer_id, $1, g.contact_id,
            COALESCE(g.email, (SELECT r.email FROM recipient r
                                WHERE r.execution_id = g.execution_id
                                  AND r.contact_id = g.contact_id), ''),
            (${RANKS})[g.rank], g.sent_at, g.delivered_at, g.opened_at, g.clicked_at, g.failed_at,
            g.opens, g.clicks, now()
       FROM g
      WHERE NOT EXISTS (SELECT 1 FROM offer_history h
                         WHERE h.execution_id = g.execution_id AND h.contact_id = g.contact_id)`,
    [channelId],
  );
  return result.rowCount ?? 0;
}
