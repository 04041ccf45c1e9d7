import type { OutboundDeps } from "../context.ts";
import { NotFoundError } from "../errors.ts";

// Realtime (QL) templates live until the offer is rolled back (`luxrelay offer rollback`) or
// until they are older than the channel's retention (housekeeping); the next realtime send
// then makes a fresh one.

async function deleteTemplates(
  deps: OutboundDeps,
  rows: { id: number; channel_id: string; luxsci_template_id: string | null }[],
): Promise<number> {
  let deleted = 0;
  for (const row of rows) {
    const channel = await deps.prisma.channel.findUniqueOrThrow({ where: { id: row.channel_id } });
    if (row.luxsci_template_id) await deps.luxsci(channel).deleteTemplate(row.luxsci_template_id);
    await deps.pool.query(
      "UPDATE luxsci_template SET state = 'deleted', deleted_at = now() WHERE id = $1",
      [row.id],
    );
    deleted++;
  }
  return deleted;
}

/** Deletes every active realtime template of the offer, on every channel. */
export async function rollbackOffer(
  deps: OutboundDeps,
  offerId: number,
): Promise<{ deleted: number }> {
  const offer = await deps.prisma.offer.findUnique({ where: { id: offerId } });
  if (!offer) throw new NotFoundError("offer", offerId);
  const { rows } = await deps.pool.query<{
    id: number;
    channel_id: string;
    luxsci_template_id: string | null;
  }>(
    `SELECT id, channel_id, luxsci_template_id FROM luxsci_template
     WHERE offer_id = $1 AND realtime AND state = 'active'`,
    [offerId],
  );
  const deleted = await deleteTemplates(deps, rows);
  deps.logger.info({ offerId, deleted }, "offer rolled back: realtime templates deleted");
  return { deleted };
}

/** Housekeeping: realtime templates older than their channel's retention. */
export async function expireRealtimeTemplates(deps: OutboundDeps): Promise<{ deleted: number }> {
  const { rows } = await deps.pool.query<{
    id: number;
    channel_id: string;
    luxsci_template_id: string | null;
  }>(
    `SELECT t.id, t.channel_id, t.luxsci_template_id FROM luxsci_template t
     JOIN channel c ON c.id = t.channel_id
     WHERE t.realtime AND t.state = 'active'
       AND t.created_at < now() - make_interval(days => c.template_retention_days)`,
  );
  return { deleted: await deleteTemplates(deps, rows) };
}
