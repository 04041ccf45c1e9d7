import type { LuxSciClient } from "@luxrelay/luxsci";
import type { OutboundDeps } from "../context.ts";
import { templateTitleOf } from "../ids.ts";
import { loadChannel } from "../rows.ts";
import { templateInputOf } from "../send/messages.ts";
import type { PlannedVariant } from "./variants.ts";

// Seed 000 step 3: one LuxSci template per content group of an execution. The row is written
// before the call and the LuxSci id after, so a re-run reuses a template it already made; a
// replay after finalize (which deleted them) makes them again.

export interface TemplateOwner {
  executionId: number;
  offerId: number;
  channelId: string;
  clientId: string;
  secure: boolean;
}

/** Ensures an active LuxSci template for each content hash; returns hash -> our row id. */
export async function ensureTemplates(
  deps: OutboundDeps,
  client: LuxSciClient,
  owner: TemplateOwner,
  variants: readonly PlannedVariant[],
  contentHashes: readonly string[],
): Promise<Map<string, number>> {
  const title = templateTitleOf({ realtime: false, ...owner });
  const byHash = new Map(variants.map((variant) => [variant.compiled.contentHash, variant]));
  const result = new Map<string, number>();
  for (const contentHash of contentHashes) {
    const variant = byHash.get(contentHash);
    if (!variant) throw new Error(`no content variant compiles to ${contentHash.slice(0, 12)}…`);
    // DO UPDATE (of nothing) so that an existing row is returned too.
    const upserted = await deps.pool.query<{
      id: number;
      state: string;
      luxsciTemplateId: string | null;
    }>(
      `INSERT INTO luxsci_template (channel_id, offer_id, execution_id, variant_id, title, content_hash)
       VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (channel_id, title, content_hash) DO UPDATE SET title = EXCLUDED.title
       RETURNING id, state, luxsci_template_id AS "luxsciTemplateId"`,
      [owner.channelId, owner.offerId, owner.executionId, variant.id, title, contentHash],
    );
    const row = upserted.rows[0] as { id: number; state: string; luxsciTemplateId: string | null };
    if (row.state === "active" && row.luxsciTemplateId) {
      result.set(contentHash, row.id);
      continue;
    }
    const luxsciTemplateId = await client.createTemplate(
      templateInputOf(title, variant.compiled, owner.secure),
    );
    await deps.pool.query(
      `UPDATE luxsci_template SET luxsci_template_id = $2, state = 'active', deleted_at = NULL
       WHERE id = $1`,
      [row.id, luxsciTemplateId],
    );
    deps.logger.info(
      { executionId: owner.executionId, templateId: row.id, luxsciTemplateId, title },
      "LuxSci template created",
    );
    result.set(contentHash, row.id);
  }
  return result;
}

export interface TemplateRow {
  id: number;
  channelId: string;
  luxsciTemplateId: string | null;
}

/**
 * Deletes templates at LuxSci and marks their rows deleted (finalize, rollback, retention).
 * A template LuxSci no longer has counts as deleted. Stops at the first failure, or with
 * `keepGoing` tries them all and returns the failures (the rows stay active for a later try).
 */
export async function deleteTemplates(
  deps: OutboundDeps,
  rows: readonly TemplateRow[],
  options: { keepGoing?: boolean } = {},
): Promise<{ deleted: number; failed: Error[] }> {
  let deleted = 0;
  const failed: Error[] = [];
  for (const row of rows) {
    try {
      if (row.luxsciTemplateId) {
        const channel = await loadChannel(deps.pool, row.channelId);
        await deps.luxsci.client(channel).deleteTemplate(row.luxsciTemplateId);
      }
      await deps.pool.query(
        "UPDATE luxsci_template SET state = 'deleted', deleted_at = now() WHERE id = $1",
        [row.id],
      );
      deleted += 1;
    } catch (error) {
      if (!options.keepGoing) throw error;
      failed.push(error as Error);
      deps.logger.warn(
        { templateId: row.id, err: (error as Error).message },
        "template not deleted at LuxSci: left for a later try",
      );
    }
  }
  return { deleted, failed };
}
