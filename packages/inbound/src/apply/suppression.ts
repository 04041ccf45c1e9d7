import type pg from "pg";
import { copyIntoTempTable, type TempColumn } from "../import/copy-stage.ts";
import { fromEpochMs } from "../import/epoch-ms.ts";
import type { SuppressionCandidate } from "./aggregate.ts";

// Seed 000 inbound step 9: HardFail, Failed and Spam fulfillment states go to the suppression
// table; complaints (feedback loop) and unsubscribes too, so that the next planning (outbound
// step 2) skips them without waiting for LuxSci's own suppression list (step 10).

/** The suppression source each event type files under. */
export const SUPPRESSION_SOURCES = {
  hard_fail: "hard_fail",
  failed: "failed",
  spam: "spam",
  complaint: "complaint",
  unsubscribed: "unsubscribe",
} as const;

const CANDIDATES_TABLE = "lr_apply_suppressions";

const CANDIDATES_COLUMNS: readonly TempColumn[] = [
  ["email", "text NOT NULL"],
  ["source", "suppression_source NOT NULL"],
  ["reason", "text"],
  ["at_ms", "bigint NOT NULL"],
];

/**
 * One suppression row per (lowercased email, source) among the new events, at the earliest
 * such event (aggregate.ts picks it); an address already suppressed for that source keeps its
 * first row. Reason: the remote server's reply (details) or status for failures, the feedback
 * type for complaints. Inserted in key order, so that two channels' applies suppressing the
 * same addresses wait for each other rather than deadlock.
 */
export async function applySuppressions(
  client: pg.ClientBase,
  channelId: string,
  candidates: Iterable<SuppressionCandidate>,
): Promise<number> {
  const copied = await copyIntoTempTable(
    client,
    CANDIDATES_TABLE,
    CANDIDATES_COLUMNS,
    candidates,
    (c) => [c.email, c.source, c.reason, c.atMs],
  );
  if (copied === 0) return 0;
  const result = await client.query(
    `INSERT INTO suppression (email, source, reason, channel_id, at)
     SELECT email, source, reason, $1, ${fromEpochMs("at_ms")}
       FROM ${CANDIDATES_TABLE}
      ORDER BY email, source
     ON CONFLICT (email, source) DO NOTHING`,
    [channelId],
  );
  return result.rowCount ?? 0;
}
