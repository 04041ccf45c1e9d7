import type pg from "pg";
import { NEW_EVENTS_TABLE } from "./stage.ts";

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

/**
 * Upserts the offer history of every (execution, contact) among the newly inserted events:
 * state by precedence, each *_at the earliest seen, opens/clicks counters incremented by the
 * new opens and clicks. Runs only over new events, so a re-import changes nothing.
 *
 * Events are aggregated per contact first, then existing rows are UPDATEd (only those the
 * events change: a delivery LuxSci lists for a contact already delivered earlier changes
 * nothing) and missing ones INSERTed, in one statement. Cheaper than INSERT ... ON CONFLICT DO
 * UPDATE, which probes the key, locks (a WAL record) and then updates every row. Safe without
 * ON CONFLICT because the channel's imports are serialised (lockChannelImports) and an
 * execution belongs to one channel: nothing else writes these rows meanwhile (if something
 * did, the INSERT's unique violation fails the import, which is retried; nothing is lost).
 * Returns how many rows were created.
 */
export async function upsertOfferHistory(
  client: pg.ClientBase,
  channelId: string,
): Promise<number> {
  const changes = [
    `g.rank > array_position(${RANKS}, h.state)`,
    ...AT_COLUMNS.map((column) => `g.${column} < COALESCE(h.${column}, 'infinity')`),
    "g.opens > 0",
    "g.clicks > 0",
  ];
  const result = await client.query(
    `WITH g AS (
       SELECT execution_id, contact_id, min(offer_id) AS offer_id, min(email) AS email,
              max(array_position(${RANKS}, type::text::offer_history_state)) AS rank,
              min(occurred_at) FILTER (WHERE type = 'sent') AS sent_at,
              min(occurred_at) FILTER (WHERE type = 'delivered') AS delivered_at,
              min(occurred_at) FILTER (WHERE type = 'opened') AS opened_at,
              min(occurred_at) FILTER (WHERE type = 'clicked') AS clicked_at,
              min(occurred_at) FILTER (WHERE type IN ('failed', 'hard_fail', 'spam')) AS failed_at,
              count(*) FILTER (WHERE type = 'opened')::int AS opens,
              count(*) FILTER (WHERE type = 'clicked')::int AS clicks
         FROM ${NEW_EVENTS_TABLE}
        GROUP BY execution_id, contact_id
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
