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

/**
 * Upserts the offer history of every (execution, contact) among the newly inserted events:
 * state by precedence, each *_at the earliest seen, opens/clicks counters incremented by the
 * new opens and clicks. Runs only over new events, so a re-import changes nothing.
 */
export async function upsertOfferHistory(
  client: pg.ClientBase,
  channelId: string,
): Promise<number> {
  const result = await client.query(
    `INSERT INTO offer_history AS h (execution_id, offer_id, channel_id, contact_id, email, state,
                                     sent_at, delivered_at, opened_at, clicked_at, failed_at,
                                     opens, clicks, updated_at)
     SELECT g.execution_id, g.offer_id, $1, g.contact_id,
            COALESCE(g.email, (SELECT r.email FROM recipient r
                                WHERE r.execution_id = g.execution_id
                                  AND r.contact_id = g.contact_id), ''),
            (${RANKS})[g.rank], g.sent_at, g.delivered_at, g.opened_at, g.clicked_at, g.failed_at,
            g.opens, g.clicks, now()
       FROM (SELECT execution_id, contact_id, min(offer_id) AS offer_id, min(email) AS email,
                    max(array_position(${RANKS}, type::text::offer_history_state)) AS rank,
                    min(occurred_at) FILTER (WHERE type = 'sent') AS sent_at,
                    min(occurred_at) FILTER (WHERE type = 'delivered') AS delivered_at,
                    min(occurred_at) FILTER (WHERE type = 'opened') AS opened_at,
                    min(occurred_at) FILTER (WHERE type = 'clicked') AS clicked_at,
                    min(occurred_at) FILTER (WHERE type IN ('failed', 'hard_fail', 'spam')) AS failed_at,
                    count(*) FILTER (WHERE type = 'opened') AS opens,
                    count(*) FILTER (WHERE type = 'clicked') AS clicks
               FROM ${NEW_EVENTS_TABLE}
              GROUP BY execution_id, contact_id) g
     ON CONFLICT (execution_id, contact_id) DO UPDATE SET
       state = CASE WHEN array_position(${RANKS}, EXCLUDED.state) > array_position(${RANKS}, h.state)
                    THEN EXCLUDED.state ELSE h.state END,
       sent_at = LEAST(h.sent_at, EXCLUDED.sent_at),
       delivered_at = LEAST(h.delivered_at, EXCLUDED.delivered_at),
       opened_at = LEAST(h.opened_at, EXCLUDED.opened_at),
       clicked_at = LEAST(h.clicked_at, EXCLUDED.clicked_at),
       failed_at = LEAST(h.failed_at, EXCLUDED.failed_at),
       opens = h.opens + EXCLUDED.opens,
       clicks = h.clicks + EXCLUDED.clicks,
       updated_at = now()`,
    [channelId],
  );
  return result.rowCount ?? 0;
}
