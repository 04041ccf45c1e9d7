import type pg from "pg";
import { fromEpochMs, toEpochMs } from "./epoch-ms.ts";

// Set-based half of the import (seed 000 inbound steps 6-7): staged report events become
// email_event rows in one INSERT ... SELECT joined to tracking. Only new events are inserted:
// the rest of seed 000 step 8 (offer history, suppression, engagement) and the events stream
// read them afterwards from email_event by id (apply/). The staging table is a temp table,
// private to the connection, so concurrent imports on other connections never see its rows.

export const STAGE_TABLE = "lr_import_stage";

// Events a message has at most once: a delivery row LuxSci reports again with a newer
// last_updated (its counters moved) must not count a second delivery. Opens and clicks repeat:
// each is its own event, told apart by time, fingerprint (fingerprintSql) and ordinal (README
// "Identity of an event"); the import numbers identical ones (OccurrenceCounter), so staged
// opens and clicks never repeat one another: only events a message has once are deduplicated.
const ONCE_PER_MESSAGE =
  "('sent','delivered','failed','hard_fail','spam','complaint','unsubscribed')";

/**
 * email_event.fingerprint of an open or click: a hash of what tells two of them apart at the
 * same second. The migration that added the column computed it for the rows stored before with
 * this same expression (prisma/migrations/*_inbound_never_skips): keep the two equal.
 */
export function fingerprintSql(row: string): string {
  return `hashtextextended(coalesce(${row}.ip, '') || chr(31) || coalesce(${row}.user_agent, '') || chr(31) || coalesce(${row}.url, ''), 0)`;
}

/**
 * Serialises the inserts of one channel's imports, from the INSERT to COMMIT (a transaction-
 * level advisory lock), so that a channel's email_event ids grow in commit order: apply/ reads
 * a channel's new events as those past an id, which holds only if no lower id of the channel
 * can still commit. Parsing and staging, the bulk of an import, run before it, so two imports
 * of a channel overlap there. Imports of different channels never wait for each other.
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
      user_agent text,
      ordinal integer NOT NULL
    ) ON COMMIT DROP`);
}

/**
 * Whether the staged rows hold an event a message has once twice (a hash over their keys,
 * ~1 s a million). Asked before the channel's lock is taken, so that it overlaps the insert of
 * the import before; insertNewEvents takes the answer.
 */
export async function hasRepeatedEvents(client: pg.ClientBase): Promise<boolean> {
  const { rows } = await client.query<{ repeated: boolean }>(
    `SELECT EXISTS (SELECT 1 FROM ${STAGE_TABLE} WHERE type IN ${ONCE_PER_MESSAGE}
                     GROUP BY sendmail_id, type HAVING count(*) > 1)
       AS repeated`,
  );
  return rows[0]?.repeated === true;
}

/** The (execution, type) pairs of the staged opens and clicks; asked before the lock. */
export async function findRepeatableKinds(
  client: pg.ClientBase,
): Promise<{ executionId: number; type: string }[]> {
  const { rows } = await client.query<{ execution_id: number; type: string }>(
    `SELECT DISTINCT execution_id, type::text FROM ${STAGE_TABLE}
      WHERE type NOT IN ${ONCE_PER_MESSAGE}`,
  );
  return rows.map((row) => ({ executionId: row.execution_id, type: row.type }));
}

/**
 * For the staged opens and clicks, a CASE giving the time (ms) of the newest stored event of
 * the same execution and type, NULL when there is none. Asked under the lock, so that it sees
 * every event stored before. The values are PostgreSQL's own (integers and an enum's names).
 */
async function newestStoredCase(
  client: pg.ClientBase,
  kinds: { executionId: number; type: string }[],
): Promise<string> {
  if (kinds.length === 0) return "NULL::bigint";
  const { rows } = await client.query<{ execution_id: number; type: string; newest_ms: string }>(
    `SELECT k.execution_id, k.type::text,
            (SELECT ${toEpochMs("max(e.occurred_at)")} FROM email_event e
              WHERE e.execution_id = k.execution_id AND e.type = k.type) AS newest_ms
       FROM unnest($1::int[], $2::event_type[]) AS k (execution_id, type)`,
    [kinds.map((k) => k.executionId), kinds.map((k) => k.type)],
  );
  const known = rows.filter((row) => row.newest_ms !== null);
  if (known.length === 0) return "NULL::bigint";
  const cases = known.map(
    (row) =>
      `WHEN s.execution_id = ${Number(row.execution_id)} AND s.type = '${row.type}' THEN ${BigInt(row.newest_ms)}`,
  );
  return `CASE ${cases.join(" ")} END`;
}

/**
 * Inserts the staged events that belong to the channel (chid channel part already checked;
 * here: a tracking row for the execution and offer on this channel) and are new. Returns how
 * many were inserted. Call with the channel's import lock held.
 *
 * New means: no stored event of the message with the same type (opens and clicks: and the
 * same time, fingerprint and ordinal), and, for events a message has once, the earliest of the
 * staged rows. Not by ON CONFLICT DO NOTHING, whose speculative insertion (a pre-check of the
 * key, a token, a confirm record in the WAL per row) cost ~7 s per million events here, but by
 * one probe per staged row of the unique key's index, then a plain INSERT. The probe is a
 * LATERAL with LIMIT 1 so that it stays one index lookup per row (as a plain NOT EXISTS,
 * PostgreSQL hashed all of email_event). Opens and clicks later than the newest stored one of
 * their execution and type can't be stored already (a stored copy would have the same time),
 * so they skip it: one backward look at the (execution_id, type, occurred_at) index per
 * execution and type (`staging.repeatableKinds`, findRepeatableKinds) instead of a probe per
 * row, for most of a sync's opens and clicks. The newest times go into the statement as
 * constants: joined, PostgreSQL misjudged the staging table and hashed all of it.
 * `repeated` (hasRepeatedEvents): only when the staged rows repeat an event a message has once
 * do those go through a sort that keeps the first of each.
 * The unique key still guards: a concurrent import of another channel holding the same event
 * (same sendmail id) fails with a unique violation and is retried, then finds it stored.
 */
export async function insertNewEvents(
  client: pg.ClientBase,
  channelId: string,
  staging: { repeated: boolean; repeatableKinds: { executionId: number; type: string }[] },
): Promise<number> {
  const newestMs = await newestStoredCase(client, staging.repeatableKinds);
  const staged = staging.repeated
    ? `(SELECT DISTINCT ON (sendmail_id, type) * FROM ${STAGE_TABLE}
         WHERE type IN ${ONCE_PER_MESSAGE}
         ORDER BY sendmail_id, type, occurred_ms)
       UNION ALL
       (SELECT * FROM ${STAGE_TABLE} WHERE type NOT IN ${ONCE_PER_MESSAGE})`
    : `SELECT * FROM ${STAGE_TABLE}`;
  const result = await client.query(
    `INSERT INTO email_event (channel_id, execution_id, contact_id, sendmail_id, type,
                              occurred_at, email, chid, status, details, url, ip, user_agent,
                              fingerprint, ordinal)
     SELECT $1, s.execution_id, s.contact_id, s.sendmail_id, s.type, s.occurred_at,
            s.email, s.chid, s.status, s.details, s.url, s.ip, s.user_agent,
            s.fingerprint, s.ordinal
       FROM (SELECT r.*, ${fromEpochMs("r.occurred_ms")} AS occurred_at,
                    r.type IN ${ONCE_PER_MESSAGE} AS once,
                    CASE WHEN r.type IN ${ONCE_PER_MESSAGE} THEN 0
                         ELSE ${fingerprintSql("r")} END AS fingerprint
               FROM (${staged}) r) s
       JOIN tracking t
         ON t.execution_id = s.execution_id AND t.channel_id = $1 AND t.offer_id = s.offer_id
       LEFT JOIN LATERAL (
         SELECT 1 AS seen FROM email_event e
          WHERE (s.once OR s.occurred_ms <= ${newestMs})
            AND e.sendmail_id = s.sendmail_id AND e.type = s.type
            AND e.occurred_at >= CASE WHEN s.once THEN '-infinity' ELSE s.occurred_at END
            AND e.occurred_at <= CASE WHEN s.once THEN 'infinity' ELSE s.occurred_at END
            AND (s.once OR (e.fingerprint = s.fingerprint AND e.ordinal = s.ordinal))
          LIMIT 1) prior ON true
      WHERE prior.seen IS NULL`,
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
