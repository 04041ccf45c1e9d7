import type pg from "pg";
import { loadOffer, type VariantRow } from "../rows.ts";
import { compileVariants, type PlannedVariant } from "./variants.ts";

// An execution's content as it was planned (execution_content): the offer's variants, copied
// in the plan's transaction. Sends, replays and the mail-merge export compile from the copy,
// so editing or deleting a variant afterwards changes nothing already planned.

/** Copies the variants (as compiled now) into the execution's content; a second call adds nothing. */
export async function saveExecutionContent(
  db: pg.ClientBase,
  executionId: number,
  sources: readonly VariantRow[],
  compiled: readonly PlannedVariant[],
): Promise<void> {
  const hashes = new Map(compiled.map((variant) => [variant.id, variant.compiled.contentHash]));
  await db.query(
    `INSERT INTO execution_content (execution_id, variant_id, key, subject, html, text, position,
       content_hash)
     SELECT $1, * FROM unnest($2::int[], $3::text[], $4::text[], $5::text[], $6::text[],
       $7::int[], $8::text[])
     ON CONFLICT DO NOTHING`,
    [
      executionId,
      sources.map((v) => v.id),
      sources.map((v) => v.key),
      sources.map((v) => v.subject),
      sources.map((v) => v.html),
      sources.map((v) => v.text),
      sources.map((v) => v.position),
      sources.map((v) => hashes.get(v.id) ?? ""),
    ],
  );
}

/**
 * The execution's content as planned, compiled. An execution planned before this copy
 * existed (or not planned yet) has none: its offer's current variants stand in.
 */
export async function loadExecutionContent(
  db: pg.Pool | pg.ClientBase,
  execution: { id: number; offerId: number },
): Promise<PlannedVariant[]> {
  const saved = await db.query<VariantRow>(
    `SELECT variant_id AS id, key, subject, html, text, position FROM execution_content
     WHERE execution_id = $1 ORDER BY position, variant_id`,
    [execution.id],
  );
  if (saved.rows.length > 0) return compileVariants(saved.rows);
  return compileVariants((await loadOffer(db, execution.offerId)).variants);
}
