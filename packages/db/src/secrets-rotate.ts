import type pg from "pg";
import { CHANNEL_SECRET_COLUMNS } from "./channel-secrets.ts";
import { quoteIdent } from "./copy.ts";
import { decryptSecret, encryptSecret, secretKeyId } from "./secrets.ts";

// `npm run -s secrets -- rotate`: every stored secret re-encrypted under the current
// SECRET_KEY, from a previous key (SECRET_KEY_PREVIOUS) or the older v1 format. Safe to run
// again and to stop half-way: a value already under the current key is left alone, and each
// row is re-encrypted in its own transaction, locked, so a channel changed meanwhile through
// the API is never overwritten with its old secret.

/** Every table column that holds ciphertext, with the id column its values are bound to. */
export const SECRET_COLUMNS: readonly { table: string; id: string; columns: readonly string[] }[] =
  [{ table: "channel", id: "id", columns: Object.values(CHANNEL_SECRET_COLUMNS) }];

export interface RotationKeys {
  /** SECRET_KEY: every value ends under it. */
  current: Buffer;
  /** SECRET_KEY_PREVIOUS: keys values may still be under. */
  previous: readonly Buffer[];
}

export interface RotationResult {
  /** Key id of the current key (what every value's "v2:<keyId>:" now says). */
  keyId: string;
  /** Values re-encrypted now. */
  rotated: number;
  /** Values that were under the current key already. */
  current: number;
  /** Rows changed (a row holds up to one value per secret column). */
  rows: number;
  /** Values no key could decrypt: left as they are. */
  failed: { table: string; column: string; rowId: string; reason: string }[];
}

/**
 * Re-encrypts every secret not yet under `keys.current`. `db` is one connection (a pg.Client
 * or a pool's checked-out client): the row transactions run on it one after another.
 */
export async function rotateSecrets(
  db: pg.ClientBase,
  keys: RotationKeys,
): Promise<RotationResult> {
  const keyId = secretKeyId(keys.current);
  const currentPrefix = `v2:${keyId}:%`;
  const decryptKeys = [keys.current, ...keys.previous];
  const result: RotationResult = { keyId, rotated: 0, current: 0, rows: 0, failed: [] };
  for (const { table, id, columns } of SECRET_COLUMNS) {
    const cols = columns.map(quoteIdent);
    const counts = await db.query<{ n: string }>(
      `SELECT ${cols.map((c) => `count(*) FILTER (WHERE ${c} LIKE $1)`).join(" + ")} AS n FROM ${quoteIdent(table)}`,
      [currentPrefix],
    );
    result.current += Number(counts.rows[0]?.n ?? 0);
    const stale = await db.query<{ id: string }>(
      `SELECT ${quoteIdent(id)} AS id FROM ${quoteIdent(table)}
       WHERE ${cols.map((c) => `${c} NOT LIKE $1`).join(" OR ")} ORDER BY 1`,
      [currentPrefix],
    );
    for (const { id: rowId } of stale.rows) {
      await db.query("BEGIN");
      try {
        const locked = await db.query<Record<string, string | null>>(
          `SELECT ${cols.join(", ")} FROM ${quoteIdent(table)} WHERE ${quoteIdent(id)} = $1 FOR UPDATE`,
          [rowId],
        );
        const row = locked.rows[0];
        const updates: [string, string][] = [];
        for (const column of row ? columns : []) {
          const stored = row?.[column];
          if (stored == null || stored.startsWith(`v2:${keyId}:`)) continue;
          const field = { table, column, rowId };
          try {
            const plaintext = decryptSecret(stored, decryptKeys, field, { acceptV1: true });
            updates.push([column, encryptSecret(plaintext, keys.current, field)]);
          } catch (error) {
            result.failed.push({ ...field, reason: (error as Error).message });
          }
        }
        if (updates.length > 0) {
          await db.query(
            `UPDATE ${quoteIdent(table)} SET ${updates.map(([c], i) => `${quoteIdent(c)} = $${i + 2}`).join(", ")} WHERE ${quoteIdent(id)} = $1`,
            [rowId, ...updates.map(([, value]) => value)],
          );
          result.rotated += updates.length;
          result.rows += 1;
        }
        await db.query("COMMIT");
      } catch (error) {
        await db.query("ROLLBACK");
        throw error;
      }
    }
  }
  return result;
}
