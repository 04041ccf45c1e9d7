import type { Channel } from "@luxrelay/db";
import type { TRealtimePayload } from "@luxrelay/jobs";
import { LuxSciRateLimitError } from "@luxrelay/luxsci";
import { UnrecoverableError } from "bullmq";
import type pg from "pg";
import { normalizeEmail } from "../audience/email.ts";
import type { AudienceValue } from "../audience/source.ts";
import type { OutboundDeps } from "../context.ts";
import { LockLostError } from "../errors.ts";
import { chidOf, templateTitleOf, trackingIdOf } from "../ids.ts";
import {
  compileVariants,
  type PlannedVariant,
  variantChooser,
  ZVariantRule,
} from "../plan/variants.ts";
import { loadChannel, loadOffer } from "../rows.ts";
import { buildMessages, markRecipientsSent, templateInputOf } from "../send/messages.ts";
import { findAlreadySent } from "../send/reconcile.ts";
import { withTransaction } from "../tx.ts";
import { countRealtime } from "./activity.ts";
import { MicroBatcher } from "./batcher.ts";

// Realtime sends (seed 000: "ideal for Queue Listeners", DESIGN "Realtime sends"): one job per
// contact, micro-batched per content group and channel into one POST, with the same
// guarantees as batch sends. Each request key is a recipient row of the offer's realtime
// execution (contact id `<contact>~<key>`), so a key is sent at most once: a row that exists
// already is either sent (its result is returned) or was being sent when a worker died (it is
// reconciled against LuxSci's sent report first).

export type RealtimeResult =
  | { status: "sent"; sendmailId: string; chid: string }
  | { status: "suppressed"; email: string };

interface Pending {
  executionId: number;
  contactId: string;
  email: string;
  chid: string;
  slots: Record<string, string>;
  /** When the job was queued: the reconcile window starts before it. */
  since: Date;
  /** Renews the job's lock for the send to come; false when it has lapsed. */
  owns?: () => Promise<boolean>;
}

interface OfferContext {
  offerId: number;
  variants: PlannedVariant[];
  choose: ReturnType<typeof variantChooser>;
  loadedAt: number;
}

const CACHE_MS = 10_000;

export interface RealtimeSenderOptions {
  flushMs: number;
  maxBatch: number;
  /** 429 from LuxSci: pause the realtime queue for this long. */
  rateLimit?(ms: number): Promise<void>;
}

export class RealtimeSender {
  private readonly offers = new Map<number, OfferContext>();
  private readonly executions = new Map<string, number>();
  private readonly channels = new Map<string, { row: Channel; loadedAt: number }>();
  private readonly batcher: MicroBatcher<Pending, RealtimeResult>;

  constructor(
    private readonly deps: OutboundDeps,
    private readonly options: RealtimeSenderOptions,
  ) {
    this.batcher = new MicroBatcher({
      flushMs: options.flushMs,
      maxBatch: options.maxBatch,
      flush: (key, items) => this.flush(key, items),
    });
  }

  private async channel(channelId: string): Promise<Channel> {
    const cached = this.channels.get(channelId);
    if (cached && Date.now() - cached.loadedAt < CACHE_MS) return cached.row;
    const row = await loadChannel(this.deps.pool, channelId);
    this.channels.set(channelId, { row, loadedAt: Date.now() });
    return row;
  }

  private async offer(offerId: number): Promise<OfferContext> {
    const cached = this.offers.get(offerId);
    if (cached && Date.now() - cached.loadedAt < CACHE_MS) return cached;
    const offer = await loadOffer(this.deps.pool, offerId);
    if (offer.variants.length === 0)
      throw new UnrecoverableError(`offer ${offerId} has no content variants`);
    const variants = compileVariants(offer.variants);
    const rule = offer.variantRule === null ? null : ZVariantRule.parse(offer.variantRule);
    const context = {
      offerId,
      variants,
      choose: variantChooser(variants, offer.variantAttribute, rule),
      loadedAt: Date.now(),
    };
    this.offers.set(offerId, context);
    return context;
  }

  /** The offer's realtime execution on the channel: one, long-lived, found or made. */
  private async execution(offerId: number, channelId: string): Promise<number> {
    const key = `${offerId}:${channelId}`;
    const cached = this.executions.get(key);
    if (cached) return cached;
    const id = await withTransaction(this.deps.pool, async (client) => {
      await client.query("SELECT pg_advisory_xact_lock(hashtext($1))", [`realtime:${key}`]);
      const found = await client.query<{ id: number }>(
        `SELECT id FROM execution WHERE offer_id = $1 AND channel_id = $2 AND kind = 'realtime'
         ORDER BY id LIMIT 1`,
        [offerId, channelId],
      );
      const existing = found.rows[0]?.id;
      if (existing !== undefined) return existing;
      const created = await client.query<{ id: number }>(
        `INSERT INTO execution (offer_id, channel_id, kind, status, audience, started_at, updated_at)
         VALUES ($1, $2, 'realtime', 'sending', '{"type":"realtime"}', now(), now()) RETURNING id`,
        [offerId, channelId],
      );
      const made = created.rows[0]?.id as number;
      await client.query(
        `INSERT INTO tracking (tracking_id, execution_id, offer_id, channel_id)
         VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`,
        [trackingIdOf(made, offerId, channelId), made, offerId, channelId],
      );
      return made;
    });
    this.executions.set(key, id);
    return id;
  }

  /**
   * One realtime job: validate and render here (no database round trip), then wait for the
   * group's flush, which does the rest for the whole group at once.
   */
  async send(
    payload: TRealtimePayload,
    enqueuedAt: Date,
    owns?: () => Promise<boolean>,
  ): Promise<RealtimeResult> {
    const { offerId, channelId, idempotencyKey, contact } = payload;
    const channel = await this.channel(channelId);
    const email = normalizeEmail(contact.email);
    if ("problem" in email) {
      await countRealtime(this.deps, offerId, channelId, { invalid: 1 });
      throw new UnrecoverableError(`contact.email: ${email.problem}`);
    }
    const offer = await this.offer(offerId);
    const contactId = `${contact.contactId ?? email.email}~${idempotencyKey}`;
    const variant = offer.choose(contactId, contact.attributes as Record<string, AudienceValue>);
    if (typeof variant === "string") throw new UnrecoverableError(`contact.attributes: ${variant}`);
    let slots: Record<string, string>;
    try {
      slots = variant.compiled.renderSlots({ ...contact.attributes, email: email.email });
    } catch (error) {
      throw new UnrecoverableError(`template: ${(error as Error).message}`);
    }
    const executionId = await this.execution(offerId, channel.id);
    return this.batcher.add(`${channel.id}|${offerId}|${variant.compiled.contentHash}`, {
      executionId,
      contactId,
      email: email.email,
      chid: chidOf(executionId, offerId, channel.id, contactId),
      slots,
      since: enqueuedAt,
      owns,
    });
  }

  /**
   * One group, a handful of statements and at most one POST: suppression, the recipient rows
   * (a key seen before is either sent already, or reconciled against the sent report), the QL
   * template, the send, the sendmail ids.
   */
  private async flush(key: string, all: Pending[]): Promise<(RealtimeResult | Error)[]> {
    const [channelId, offerIdText, contentHash] = key.split("|") as [string, string, string];
    const offerId = Number(offerIdText);
    const channel = await this.channel(channelId);
    const results = new Map<string, RealtimeResult | Error>();
    // The same key twice in one group (added twice, bypassing the job id): one send.
    const unique = [...new Map(all.map((item) => [item.contactId, item])).values()];
    let candidates = unique;
    if (channel.autoSuppress) {
      const hits = await this.deps.pool.query<{ email: string }>(
        "SELECT DISTINCT email FROM suppression WHERE email = ANY($1::text[])",
        [unique.map((item) => item.email)],
      );
      const suppressed = new Set(hits.rows.map((row) => row.email));
      for (const item of unique) {
        if (suppressed.has(item.email))
          results.set(item.contactId, { status: "suppressed", email: item.email });
      }
      candidates = unique.filter((item) => !suppressed.has(item.email));
      if (suppressed.size > 0)
        await countRealtime(this.deps, offerId, channelId, {
          suppressed: unique.length - candidates.length,
        });
    }
    const executionId = candidates[0]?.executionId;
    const ids = new Map<string, string>();
    const retried: Pending[] = [];
    if (executionId !== undefined) {
      const inserted = await this.deps.pool.query<{ id: string; contact_id: string }>(
        `INSERT INTO recipient (execution_id, contact_id, email, batch_seq, slot_data, chid)
         SELECT $1, c, e, 0, s::jsonb, h FROM unnest($2::text[], $3::text[], $4::text[], $5::text[]) AS v(c, e, s, h)
         ON CONFLICT (execution_id, contact_id) DO NOTHING RETURNING id, contact_id`,
        [
          executionId,
          candidates.map((item) => item.contactId),
          candidates.map((item) => item.email),
          candidates.map((item) => JSON.stringify(item.slots)),
          candidates.map((item) => item.chid),
        ],
      );
      for (const row of inserted.rows) ids.set(row.contact_id, row.id);
      const seen = candidates.filter((item) => !ids.has(item.contactId));
      const seenById = new Map(seen.map((item) => [item.contactId, item]));
      if (seen.length > 0) {
        const existing = await this.deps.pool.query<{
          id: string;
          contact_id: string;
          state: string;
          sendmail_id: string | null;
        }>(
          `SELECT id, contact_id, state, sendmail_id FROM recipient
           WHERE execution_id = $1 AND contact_id = ANY($2::text[])`,
          [executionId, seen.map((item) => item.contactId)],
        );
        for (const row of existing.rows) {
          const item = seenById.get(row.contact_id) as Pending;
          if (row.state === "sent") {
            results.set(row.contact_id, {
              status: "sent",
              sendmailId: row.sendmail_id as string,
              chid: item.chid,
            });
          } else {
            ids.set(row.contact_id, row.id);
            retried.push(item);
          }
        }
      }
    }
    // A job whose lock lapsed may be running again (a stalled job is handed out anew, and that
    // run would not find this one's message in the sent report yet): only jobs that still hold
    // their lock, renewed here for the call, are sent; the others fail and leave it to it.
    const waiting = candidates.filter((item) => ids.has(item.contactId));
    const owned = await Promise.all(waiting.map((item) => (item.owns ? item.owns() : true)));
    const lost = new Set(waiting.filter((_, i) => !owned[i]).map((item) => item.contactId));
    for (const contactId of lost)
      results.set(contactId, new LockLostError(`realtime ${contactId}`));
    const pending = waiting.filter((item) => !lost.has(item.contactId));
    if (pending.length > 0) {
      const sent = await this.sendGroup(
        channel,
        offerId,
        contentHash,
        pending,
        retried.filter((item) => !lost.has(item.contactId)),
      );
      await markRecipientsSent(
        this.deps.pool,
        pending.map((item) => ids.get(item.contactId) as string),
        pending.map((item) => sent.get(item.chid) as string),
      );
      for (const item of pending) {
        results.set(item.contactId, {
          status: "sent",
          sendmailId: sent.get(item.chid) as string,
          chid: item.chid,
        });
      }
    }
    return all.map((item) => results.get(item.contactId) as RealtimeResult | Error);
  }

  /** chid -> sendmail id for every pending item: found in the sent report, or sent now. */
  private async sendGroup(
    channel: Channel,
    offerId: number,
    contentHash: string,
    pending: Pending[],
    retried: Pending[],
  ): Promise<Map<string, string>> {
    const offer = await this.offer(offerId);
    const variant = offer.variants.find((v) => v.compiled.contentHash === contentHash);
    if (!variant)
      throw new Error(`content ${contentHash.slice(0, 12)} is no longer in offer ${offerId}`);
    const templateId = await ensureRealtimeTemplate(this.deps, channel, offerId, variant);
    const sent = new Map<string, string>();
    if (retried.length > 0) {
      const since = new Date(Math.min(...retried.map((item) => item.since.getTime())));
      const found = await findAlreadySent(this.deps.luxsci(channel), {
        chidPrefix: `_${channel.id}_`,
        since,
        chids: new Set(retried.map((item) => item.chid)),
      });
      for (const [chid, sendmailId] of found) sent.set(chid, sendmailId);
    }
    const toSend = pending.filter((item) => !sent.has(item.chid));
    if (toSend.length > 0) {
      const messages = buildMessages(channel, templateId, toSend);
      try {
        const ids = await this.deps
          .luxsci(channel, { forSend: true })
          .sendEmail(messages, { maxAttempts: 1 });
        toSend.forEach((item, i) => {
          sent.set(item.chid, ids[i] as string);
        });
      } catch (error) {
        if (error instanceof LuxSciRateLimitError && this.options.rateLimit) {
          await this.options.rateLimit(error.retryAfterMs ?? 1000);
        }
        throw error;
      }
    }
    await countRealtime(this.deps, offerId, channel.id, {
      sent: toSend.length,
      reconciled: pending.length - toSend.length,
      calls: toSend.length > 0 ? 1 : 0,
    });
    return sent;
  }

  async drain(): Promise<void> {
    await this.batcher.drain();
  }
}

/**
 * The offer variant's QL template on the channel, made once and kept (DESIGN "Realtime
 * sends"): deleted only by rollback or when older than the channel's retention.
 */
export async function ensureRealtimeTemplate(
  deps: OutboundDeps,
  channel: { id: string; clientId: string; secure: boolean } & Parameters<
    OutboundDeps["luxsci"]
  >[0],
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
  // The template's LuxSci id when it is active, read outside and again inside the lock.
  const activeId = async (db: Pick<pg.PoolClient, "query">) => {
    const { rows } = await db.query<{ luxsci_template_id: string | null; state: string }>(
      `SELECT luxsci_template_id, state FROM luxsci_template
       WHERE channel_id = $1 AND title = $2 AND content_hash = $3`,
      [channel.id, title, contentHash],
    );
    const row = rows[0];
    return row?.state === "active" && row.luxsci_template_id ? row.luxsci_template_id : null;
  };
  const known = await activeId(deps.pool);
  if (known) return known;
  return withTransaction(deps.pool, async (client) => {
    // One creator per template across workers.
    await client.query("SELECT pg_advisory_xact_lock(hashtext($1))", [
      `ql:${channel.id}:${contentHash}`,
    ]);
    const current = await activeId(client);
    if (current) return current;
    const luxsciTemplateId = await deps
      .luxsci(channel)
      .createTemplate(templateInputOf(title, variant.compiled, channel.secure));
    await client.query(
      `INSERT INTO luxsci_template (channel_id, offer_id, variant_id, title, content_hash,
         luxsci_template_id, realtime, state, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, true, 'active', now())
       ON CONFLICT (channel_id, title, content_hash) DO UPDATE
         SET luxsci_template_id = EXCLUDED.luxsci_template_id, state = 'active',
             deleted_at = NULL, created_at = now()`,
      [channel.id, offerId, variant.id, title, contentHash, luxsciTemplateId],
    );
    deps.logger.info(
      { offerId, channelId: channel.id, luxsciTemplateId, title },
      "realtime template created",
    );
    return luxsciTemplateId;
  });
}
