import type pg from "pg";
import { FAILURE_TYPES, sqlTypeList } from "../import/map-row.ts";

// Seed 000 inbound step 11 ("update the state and metrics count"): counts read straight from
// email_event, which the (execution_id, type) index serves; nothing to keep in step.

export interface EventMetrics {
  sent: number;
  delivered: number;
  /** hard_fail + failed + spam. */
  failed: number;
  /** unique: recipients (contacts) who opened at least once; total: open events. */
  opened: { unique: number; total: number };
  clicked: { unique: number; total: number };
  complained: number;
  unsubscribed: number;
}

interface MetricsRow {
  sent: string;
  delivered: string;
  failed: string;
  opened_unique: string;
  opened_total: string;
  clicked_unique: string;
  clicked_total: string;
  complained: string;
  unsubscribed: string;
}

const METRICS_COLUMNS = `
  count(*) FILTER (WHERE type = 'sent') AS sent,
  count(*) FILTER (WHERE type = 'delivered') AS delivered,
  count(*) FILTER (WHERE type IN ${sqlTypeList(FAILURE_TYPES)}) AS failed,
  count(DISTINCT (execution_id, contact_id)) FILTER (WHERE type = 'opened') AS opened_unique,
  count(*) FILTER (WHERE type = 'opened') AS opened_total,
  count(DISTINCT (execution_id, contact_id)) FILTER (WHERE type = 'clicked') AS clicked_unique,
  count(*) FILTER (WHERE type = 'clicked') AS clicked_total,
  count(*) FILTER (WHERE type = 'complaint') AS complained,
  count(*) FILTER (WHERE type = 'unsubscribed') AS unsubscribed`;

function toMetrics(row: MetricsRow | undefined): EventMetrics {
  const n = (value: string | undefined) => Number(value ?? 0);
  return {
    sent: n(row?.sent),
    delivered: n(row?.delivered),
    failed: n(row?.failed),
    opened: { unique: n(row?.opened_unique), total: n(row?.opened_total) },
    clicked: { unique: n(row?.clicked_unique), total: n(row?.clicked_total) },
    complained: n(row?.complained),
    unsubscribed: n(row?.unsubscribed),
  };
}

/** Event counts of one execution. */
export async function getExecutionMetrics(
  pool: pg.Pool,
  executionId: number,
): Promise<EventMetrics> {
  const { rows } = await pool.query<MetricsRow>(
    `SELECT ${METRICS_COLUMNS} FROM email_event WHERE execution_id = $1`,
    [executionId],
  );
  return toMetrics(rows[0]);
}

/** Event counts of every execution of one offer (tracking maps executions to offers). */
export async function getOfferMetrics(pool: pg.Pool, offerId: number): Promise<EventMetrics> {
  const { rows } = await pool.query<MetricsRow>(
    `SELECT ${METRICS_COLUMNS} FROM email_event
      WHERE execution_id IN (SELECT execution_id FROM tracking WHERE offer_id = $1)`,
    [offerId],
  );
  return toMetrics(rows[0]);
}
