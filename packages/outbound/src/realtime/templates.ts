import type { ChannelCredentials } from "@luxrelay/channels";
import type { OutboundDeps } from "../context.ts";
import { NotFoundError, RetryLaterError } from "../errors.ts";
import { templateTitleOf } from "../ids.ts";
import { deleteTemplates, type TemplateRow } from "../plan/templates.ts";
import type { PlannedVariant } from "../plan/variants.ts";
import { templateInputOf } from "../send/messages.ts";

// Realtime (QL) templates live until the offer is rolled back (`luxrelay offer rollback`) or
// until they are older than the channel's retention (housekeeping); the next realtime send
// then makes a fresh one. The same hourly sweep deletes the templates of ended executions
// that their finalize could not delete (LuxSci failing on its last attempt).

/** Deletes every active realtime template of the offer, on every channel. */
export async function rollbackOffer(
  deps: OutboundDeps,
  offerId: number,
): Promise<{ deleted: number }> {
  const offer = await deps.prisma.offer.findUnique({ where: { id: offerId } });
  if (!offer) throw new NotFoundError("offer", offerId);
  const { rows } = await deps.pool.query<TemplateRow>(
    `SELECT id, channel_id AS "channelId", luxsci_template_id AS "luxsciTemplateId" FROM luxsci_template
     WHERE offer_id = $1 AND realtime AND state = 'active'`,
    [offerId],
  );
  const { deleted } = await deleteTemplates(deps, rows);
  deps.logger.info({ offerId, deleted }, "offer rolled back: realtime templates deleted");
  return { deleted };
}

/**
 * Housekeeping: realtime templates older than their channel's retention, and templates of
 * executions that have ended (finalize leaves those it could not delete).
 */
export async function expireRealtimeTemplates(
  deps: OutboundDeps,
): Promise<{ deleted: number; failed: number }> {
  const { rows } = await deps.pool.query<TemplateRow>(
    `SELECT t.id, t.channel_id AS "channelId", t.luxsci_template_id AS "luxsciTemplateId"
     FROM luxsci_template t
     JOIN channel c ON c.id = t.channel_id
     LEFT JOIN execution e ON e.id = t.execution_id
     WHERE t.state = 'active' AND (
       (t.realtime AND t.created_at < now() - make_interval(days => c.template_retention_days))
       OR (NOT t.realtime AND e.status IN ('completed', 'partially_failed', 'failed', 'cancelled')))`,
  );
  const { deleted, failed } = await deleteTemplates(deps, rows, { keepGoing: true });
  return { deleted, failed: failed.length };
}

/** How long a claim to create a template is honoured before another worker may take it over. */
const CREATION_CLAIM_MS = 120_000;
/** How long a send waits in-process for another worker's template before coming back later. */
const CREATION_WAIT_MS = 3_000;
const CREATION_POLL_MS = 100;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The offer variant's QL template on the channel, made once and kept: deleted only by rollback
 * or when older than the channel's retention. One worker creates it: it claims the row (a row
 * with no LuxSci id yet), calls LuxSci holding no lock or transaction (the call may back off
 * for minutes), then writes the id. Others wait a moment for it, then come back later; a claim
 * older than CREATION_CLAIM_MS (its worker died) is taken over.
 */
export async function ensureRealtimeTemplate(
  deps: OutboundDeps,
  channel: { id: string; clientId: string; secure: boolean } & ChannelCredentials,
  offerId: number,
  variant: PlannedVariant,
): Promise<string> {
  const title = templateTitleOf({
    realtime: true,
    offerId,
    executionId: null,
    channelId: channel.id,
    clientId: channel.clientId,
  });
  const contentHash = variant.compiled.contentHash;
  const key = [channel.id, title, contentHash];
  for (let waited = 0; ; waited += CREATION_POLL_MS) {
    const found = await deps.pool.query<{
      id: number;
      luxsci_template_id: string | null;
      state: string;
      claimed_ms: number;
    }>(
      `SELECT id, luxsci_template_id, state,
         (extract(epoch FROM now() - created_at) * 1000)::float8 AS claimed_ms
       FROM luxsci_template WHERE channel_id = $1 AND title = $2 AND content_hash = $3`,
      key,
    );
    const row = found.rows[0];
    if (row?.state === "active" && row.luxsci_template_id) return row.luxsci_template_id;
    // Claim: a new row, a deleted one brought back, or a claim whose worker went silent.
    const claimed = await deps.pool.query<{ id: number }>(
      row === undefined
        ? `INSERT INTO luxsci_template (channel_id, title, content_hash, offer_id, variant_id,
             realtime, state, created_at)
           VALUES ($1, $2, $3, $4, $5, true, 'active', now())
           ON CONFLICT (channel_id, title, content_hash) DO NOTHING RETURNING id`
        : `UPDATE luxsci_template SET state = 'active', luxsci_template_id = NULL,
             deleted_at = NULL, created_at = now()
           WHERE channel_id = $1 AND title = $2 AND content_hash = $3
             AND (state = 'deleted' OR (luxsci_template_id IS NULL
               AND created_at < now() - make_interval(secs => $4::float8 / 1000)))
           RETURNING id`,
      row === undefined ? [...key, offerId, variant.id] : [...key, CREATION_CLAIM_MS],
    );
    const ours = claimed.rows[0]?.id;
    if (ours !== undefined) return createClaimed(deps, channel, ours, title, variant, offerId);
    if (waited >= CREATION_WAIT_MS) {
      throw new RetryLaterError(1_000, "another worker is creating the realtime template");
    }
    await sleep(CREATION_POLL_MS);
  }
}

async function createClaimed(
  deps: OutboundDeps,
  channel: Parameters<typeof ensureRealtimeTemplate>[1],
  rowId: number,
  title: string,
  variant: PlannedVariant,
  offerId: number,
): Promise<string> {
  let luxsciTemplateId: string;
  try {
    luxsciTemplateId = await deps.luxsci
      .client(channel)
      .createTemplate(templateInputOf(title, variant.compiled, channel.secure));
  } catch (error) {
    // Give the claim up at once so the next send tries again without waiting it out.
    await deps.pool.query(
      "UPDATE luxsci_template SET created_at = 'epoch' WHERE id = $1 AND luxsci_template_id IS NULL",
      [rowId],
    );
    throw error;
  }
  const kept = await deps.pool.query(
    `UPDATE luxsci_template SET luxsci_template_id = $2, created_at = now()
     WHERE id = $1 AND state = 'active'`,
    [rowId, luxsciTemplateId],
  );
  if (!kept.rowCount) {
    // Rolled back while it was being made: it goes too, and this send comes back later.
    await deps.luxsci.client(channel).deleteTemplate(luxsciTemplateId);
    throw new RetryLaterError(1_000, "the offer's realtime templates were rolled back meanwhile");
  }
  deps.logger.info(
    { offerId, channelId: channel.id, luxsciTemplateId, title },
    "realtime template created",
  );
  return luxsciTemplateId;
}
