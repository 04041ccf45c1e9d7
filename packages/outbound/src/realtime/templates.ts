import type { OutboundDeps } from "../context.ts";
import { NotFoundError } from "../errors.ts";
import { deleteTemplates, type TemplateRow } from "../plan/templates.ts";

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
