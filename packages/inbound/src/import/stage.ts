import type pg from "pg";

// Set-based half of the import (seed 000 inbound steps 6-8): staged report events become
// email_event rows in one INSERT ... SELECT joined to tracking, and the rows it really
// inserted are kept in a second temp table that every later step (offer history,
// suppression, engagement, the events stream) reads. Temp tables are private to the
// connection, so concurrent imports on other connections never see each other's rows.

export const STAGE_TABLE = "lr_import_stage";
export const NEW_EVENTS_TABLE = "lr_import_new";

// Events a message has at most once: a delivery row LuxSci reports again with a newer
// last_updated (its counters moved) must not count a second delivery. Opens and clicks repeat.
const ONCE_PER_MESSAGE =
  "('sent','delivered','failed','hard_fail','spam','complaint','unsubscribed')";

/**
 * Serialises the imports of one channel (a transaction-level advisory lock): the offer
 * history and engagement upserts of two concurrent imports would otherwise lock the same
 * rows in different orders and deadlock, or cost a sort to avoid it. Imports of different
 * channels touch disjoint rows there and run side by side.
 */
export async function lockChannelImports(client: pg.ClientBase, channelId: string): Promise<void> {
  await client.query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", [
    `luxrelay:import:${channelId}`,
  ]);
}

/** Creates the staging table, dropped at COMMIT (rows are copied into it next). */
export async function createStageTable(client: pg.ClientBase): Promise<void> {
  await client.query(`
    CREATE TEMP TABLE ${STAGE_TABLE} (
      sendmail_id text NOT NULL,
      type event_type NOT NULL,
      occurred_ms bigint NOT NULL,
      email text,
      execution_id integer NOT NULL,
      offer_id integer NOT NULL,
      contact_id text NOT NULL,
      chid text NOT NULL,
      status text,
      details text,
      url text,
      ip text,
      user_agent text
    ) ON COMMIT DROP`);
}

/**
 * Inserts the staged events that belong to the channel (chid channel part already checked;
 * here: a tracking row for the execution and offer on this channel) and are new, and keeps
 * them in NEW_EVENTS_TABLE, which outlives the transaction so they can be published after
 * COMMIT; dropNewEventsTable removes it. Returns how many were inserted.
 */
export async function insertNewEvents(client: pg.ClientBase, channelId: string): Promise<number> {
  await dropNewEventsTable(client);
  await client.query(`
    CREATE TEMP TABLE ${NEW_EVENTS_TABLE} (
      id bigint NOT NULL,
      type event_type NOT NULL,
      execution_id integer NOT NULL,
      offer_id integer NOT NULL,
      contact_id text NOT NULL,
      email text,
      sendmail_id text NOT NULL,
      occurred_at timestamptz(3) NOT NULL,
      status text,
      details text,
      url text
    )`);
  // The "once per message" test is a LATERAL probe with LIMIT 1 so that it stays one index
  // lookup per staged row of those types (the unique key's (sendmail_id, type) prefix): as a
  // plain NOT EXISTS inside an OR, PostgreSQL hashed all of email_event for every import.
  const result = await client.query(
    `WITH inserted AS (
       INSERT INTO email_event (channel_id, execution_id, contact_id, sendmail_id, type,
                                occurred_at, email, chid, status, details, url, ip, user_agent)
       SELECT $1, s.execution_id, s.contact_id, s.sendmail_id, s.type,
              timestamptz 'epoch' + s.occurred_ms * interval '1 millisecond',
              s.email, s.chid, s.status, s.details, s.url, s.ip, s.user_agent
         FROM ${STAGE_TABLE} s
         JOIN tracking t
           ON t.execution_id = s.execution_id AND t.channel_id = $1 AND t.offer_id = s.offer_id
         LEFT JOIN LATERAL (
           SELECT 1 AS seen FROM email_event e
            WHERE s.type IN ${ONCE_PER_MESSAGE}
              AND e.sendmail_id = s.sendmail_id AND e.type = s.type
            LIMIT 1) prior ON true
        WHERE prior.seen IS NULL
       ON CONFLICT (sendmail_id, type, occurred_at) DO NOTHING
       RETURNING id, type, execution_id, contact_id, email, sendmail_id, occurred_at,
                 status, details, url
     )
     INSERT INTO ${NEW_EVENTS_TABLE}
     SELECT i.id, i.type, i.execution_id, t.offer_id, i.contact_id, i.email, i.sendmail_id,
            i.occurred_at, i.status, i.details, i.url
       FROM inserted i JOIN tracking t ON t.execution_id = i.execution_id`,
    [channelId],
  );
  return result.rowCount ?? 0;
}

/** Executions of this channel among the staged ones (tracking rows, seed 000 step 7). */
export async function findTrackedExecutions(
  client: pg.ClientBase,
  channelId: string,
  executionIds: readonly number[],
): Promise<Set<string>> {
  const { rows } = await client.query<{ execution_id: number; offer_id: number }>(
    "SELECT execution_id, offer_id FROM tracking WHERE channel_id = $1 AND execution_id = ANY($2)",
    [channelId, executionIds],
  );
  return new Set(rows.map((row) => `${row.execution_id}_${row.offer_id}`));
}

export async function dropNewEventsTable(client: pg.ClientBase): Promise<void> {
  await client.query(`DROP TABLE IF EXISTS ${NEW_EVENTS_TABLE}`);
}
