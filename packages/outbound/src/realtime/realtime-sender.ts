import type { Channel } from "@luxrelay/db";
import { realtimeKey, type TRealtimePayload } from "@luxrelay/jobs";
import { LuxSciRateLimitError } from "@luxrelay/luxsci";
import { UnrecoverableError } from "bullmq";
import { normalizeEmail } from "../audience/email.ts";
import type { AudienceValue } from "../audience/source.ts";
import type { OutboundDeps } from "../context.ts";
import { LockLostError, RetryLaterError } from "../errors.ts";
import { chidOf, trackingIdOf } from "../ids.ts";
import {
  compileVariants,
  type PlannedVariant,
  variantChooser,
  ZVariantRule,
} from "../plan/variants.ts";
import { loadChannel, loadOffer } from "../rows.ts";
import { buildMessages, markRecipientsSent } from "../send/messages.ts";
import {
  markBeforeCall,
  readSentReport,
  settleAfterFailedCall,
  type Unsettled,
} from "../send/settle.ts";
import { withTransaction } from "../tx.ts";
import { countRealtime } from "./activity.ts";
import { MicroBatcher } from "./batcher.ts";
import { ensureRealtimeTemplate } from "./templates.ts";

// Realtime sends (seed 000: "ideal for Queue Listeners", docs/architecture.md "Realtime sends"):
// one job per contact, micro-batched per content group and channel into one POST, with the same
// guarantees as batch sends. Each request key is a recipient row of the offer's realtime
// execution (contact id `<contact>~<key>[~<part>]`), so a key is sent at most once: a row that exists
// already is either sent (its result is returned) or had a call whose outcome is unknown: it
// is settled against LuxSci's sent report first (send/settle.ts, docs/reliability.md).

export type RealtimeResult =
  | { status: "sent"; sendmailId: string; chid: string }
  | { status: "suppressed"; email: string };

interface Pending {
  executionId: number;
  contactId: string;
  email: string;
  chid: string;
  slots: Record<string, string>;
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
  /** 429 from LuxSci: hold this channel's calls (and only this channel's) for `ms`. */
  pauseChannel?(channelId: string, ms: number): Promise<void>;
}

/** A key's recipient row: its id, and its unsettled call if it has one (settle.ts). */
interface RecipientRow {
  id: string;
  unsettled: Unsettled | null;
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
  async send(payload: TRealtimePayload, owns?: () => Promise<boolean>): Promise<RealtimeResult> {
    const { offerId, channelId, idempotencyKey, part, contact } = payload;
    const channel = await this.channel(channelId);
    const email = normalizeEmail(contact.email);
    if ("problem" in email) {
      await countRealtime(this.deps, offerId, channelId, { invalid: 1 });
      throw new UnrecoverableError(`contact.email: ${email.problem}`);
    }
    const offer = await this.offer(offerId);
    const contactId = `${contact.contactId ?? email.email}~${realtimeKey(idempotencyKey, part)}`;
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
      owns,
    });
  }

  /**
   * One group, a handful of statements and at most one POST: suppression, the recipient rows
   * (a key seen before is sent already, or its earlier call is settled first: settle.ts), the
   * QL template, the unsettled mark, the send, the sendmail ids.
   */
  private async flush(key: string, all: Pending[]): Promise<(RealtimeResult | Error)[]> {
    const [channelId, offerIdText, contentHash] = key.split("|") as [string, string, string];
    const offerId = Number(offerIdText);
    const channel = await this.channel(channelId);
    const results = new Map<string, RealtimeResult | Error>();
    // The same key twice in one group (added twice, bypassing the job id): one send.
    const unique = [...new Map(all.map((item) => [item.contactId, item])).values()];
    const candidates = await this.dropSuppressed(channel, offerId, unique, results);
    const executionId = candidates[0]?.executionId;
    if (executionId !== undefined) {
      const rows = await this.recipientRows(executionId, candidates, results);
      const sendable = await this.settleEarlierCalls(channel, offerId, candidates, rows, results);
      // A job whose lock lapsed may be running again (a stalled job is handed out anew): only
      // jobs that still hold their lock, renewed here for the call, are sent.
      const owned = await Promise.all(sendable.map((item) => (item.owns ? item.owns() : true)));
      const held = sendable.filter((item, i) => {
        if (!owned[i]) results.set(item.contactId, new LockLostError(`realtime ${item.contactId}`));
        return owned[i];
      });
      if (held.length > 0) {
        await this.sendGroup(channel, offerId, contentHash, held, rows, results);
      }
    }
    return all.map((item) => results.get(item.contactId) as RealtimeResult | Error);
  }

  /** Seed 000 step 2 for realtime: suppressed addresses get their result, the rest go on. */
  private async dropSuppressed(
    channel: Channel,
    offerId: number,
    unique: Pending[],
    results: Map<string, RealtimeResult | Error>,
  ): Promise<Pending[]> {
    if (!channel.autoSuppress) return unique;
    const hits = await this.deps.pool.query<{ email: string }>(
      "SELECT DISTINCT email FROM suppression WHERE email = ANY($1::text[])",
      [unique.map((item) => item.email)],
    );
    const suppressed = new Set(hits.rows.map((row) => row.email));
    for (const item of unique) {
      if (suppressed.has(item.email))
        results.set(item.contactId, { status: "suppressed", email: item.email });
    }
    const candidates = unique.filter((item) => !suppressed.has(item.email));
    if (candidates.length < unique.length)
      await countRealtime(this.deps, offerId, channel.id, {
        suppressed: unique.length - candidates.length,
      });
    return candidates;
  }

  /**
   * Each key's recipient row, made on first sight (one INSERT for the group). A row sent
   * already answers with its first result.
   */
  private async recipientRows(
    executionId: number,
    candidates: Pending[],
    results: Map<string, RealtimeResult | Error>,
  ): Promise<Map<string, RecipientRow>> {
    const rows = new Map<string, RecipientRow>();
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
    for (const row of inserted.rows) rows.set(row.contact_id, { id: row.id, unsettled: null });
    const seen = candidates.filter((item) => !rows.has(item.contactId));
    if (seen.length === 0) return rows;
    const existing = await this.deps.pool.query<{
      id: string;
      contact_id: string;
      state: string;
      sendmail_id: string | null;
      unsettled_since: Date | null;
      settle_after: Date | null;
    }>(
      `SELECT id, contact_id, state, sendmail_id, unsettled_since, settle_after FROM recipient
       WHERE execution_id = $1 AND contact_id = ANY($2::text[])`,
      [executionId, seen.map((item) => item.contactId)],
    );
    const chids = new Map(seen.map((item) => [item.contactId, item.chid]));
    for (const row of existing.rows) {
      if (row.state === "sent") {
        results.set(row.contact_id, {
          status: "sent",
          sendmailId: row.sendmail_id as string,
          chid: chids.get(row.contact_id) as string,
        });
      } else {
        rows.set(row.contact_id, {
          id: row.id,
          unsettled:
            row.unsettled_since && row.settle_after
              ? { since: row.unsettled_since, settleAfter: row.settle_after }
              : null,
        });
      }
    }
    return rows;
  }

  /**
   * Keys whose earlier call's outcome is unknown are looked up in LuxSci's sent report: found
   * ones are recorded as sent, ones past their deadline may be sent, the rest come back later.
   * Returns the items that may be sent now.
   */
  private async settleEarlierCalls(
    channel: Channel,
    offerId: number,
    candidates: Pending[],
    rows: Map<string, RecipientRow>,
    results: Map<string, RealtimeResult | Error>,
  ): Promise<Pending[]> {
    const waiting = candidates.filter((item) => rows.has(item.contactId));
    const unsettled = waiting.filter((item) => rows.get(item.contactId)?.unsettled);
    if (unsettled.length === 0) return waiting;
    const marks = unsettled.map((item) => rows.get(item.contactId)?.unsettled as Unsettled);
    const { found, readFrom } = await readSentReport(this.deps.luxsci.client(channel), {
      chidPrefix: `_${channel.id}_`,
      chids: new Set(unsettled.map((item) => item.chid)),
      since: new Date(Math.min(...marks.map((mark) => mark.since.getTime()))),
    });
    const recorded = unsettled.filter((item) => found.has(item.chid));
    await markRecipientsSent(
      this.deps.pool,
      recorded.map((item) => rows.get(item.contactId)?.id as string),
      recorded.map((item) => found.get(item.chid) as string),
    );
    for (const item of recorded) {
      results.set(item.contactId, {
        status: "sent",
        sendmailId: found.get(item.chid) as string,
        chid: item.chid,
      });
    }
    const settled: Pending[] = [];
    for (const item of unsettled) {
      if (found.has(item.chid)) continue;
      const mark = rows.get(item.contactId)?.unsettled as Unsettled;
      const waitMs = mark.settleAfter.getTime() - readFrom.getTime();
      if (waitMs > 0) {
        results.set(
          item.contactId,
          new RetryLaterError(
            waitMs,
            "an earlier send's outcome is unknown: waiting for LuxSci's sent report",
          ),
        );
      } else {
        settled.push(item);
      }
    }
    // Settled and not at LuxSci: the mark goes (guarded by its value), so it can be sent.
    if (settled.length > 0) {
      await this.deps.pool.query(
        `UPDATE recipient r SET unsettled_since = NULL, settle_after = NULL
         FROM unnest($1::bigint[], $2::timestamptz[]) AS v(id, settle_after)
         WHERE r.id = v.id AND r.state = 'pending' AND r.settle_after = v.settle_after`,
        [
          settled.map((item) => rows.get(item.contactId)?.id),
          settled.map((item) => rows.get(item.contactId)?.unsettled?.settleAfter),
        ],
      );
    }
    await countRealtime(this.deps, offerId, channel.id, { reconciled: recorded.length });
    const sendable = new Set(settled);
    return waiting.filter((item) => !rows.get(item.contactId)?.unsettled || sendable.has(item));
  }

  /**
   * Marks the items unsettled (only rows no other run has marked: that run sends them), sends
   * them in one POST, and records the outcome: sendmail ids, a refusal (the mark goes), or an
   * unknown outcome (the mark stays, its deadline from the call's end).
   */
  private async sendGroup(
    channel: Channel,
    offerId: number,
    contentHash: string,
    items: Pending[],
    rows: Map<string, RecipientRow>,
    results: Map<string, RealtimeResult | Error>,
  ): Promise<void> {
    const offer = await this.offer(offerId);
    const variant = offer.variants.find((v) => v.compiled.contentHash === contentHash);
    if (!variant)
      throw new Error(`content ${contentHash.slice(0, 12)} is no longer in offer ${offerId}`);
    const templateId = await ensureRealtimeTemplate(this.deps, channel, offerId, variant);
    const client = this.deps.luxsci.client(channel, { forSend: true });
    const mark = markBeforeCall(await client.serverTime(), this.deps.settle);
    const marked = await this.deps.pool.query<{ id: string }>(
      `UPDATE recipient SET unsettled_since = $2, settle_after = $3
       WHERE id = ANY($1::bigint[]) AND state = 'pending' AND unsettled_since IS NULL
       RETURNING id`,
      [items.map((item) => rows.get(item.contactId)?.id), mark.since, mark.settleAfter],
    );
    const ours = new Set(marked.rows.map((row) => row.id));
    const toSend = items.filter((item) => ours.has(rows.get(item.contactId)?.id as string));
    for (const item of items) {
      if (!toSend.includes(item))
        results.set(item.contactId, new RetryLaterError(1000, "another run is sending this key"));
    }
    if (toSend.length === 0) return;
    const ids = toSend.map((item) => rows.get(item.contactId)?.id as string);
    let sendmailIds: string[];
    try {
      sendmailIds = await client.sendEmail(buildMessages(channel, templateId, toSend), {
        maxAttempts: 1,
      });
    } catch (error) {
      // Refused: the mark goes. Unknown: it stays, its deadline now from the call's end.
      const settleAfter = settleAfterFailedCall(error, client, this.deps.settle);
      await this.deps.pool.query(
        `UPDATE recipient SET settle_after = $3,
           unsettled_since = CASE WHEN $3::timestamptz IS NULL THEN NULL ELSE unsettled_since END
         WHERE id = ANY($1::bigint[]) AND state = 'pending' AND unsettled_since = $2`,
        [ids, mark.since, settleAfter],
      );
      const failure =
        error instanceof LuxSciRateLimitError
          ? await this.holdChannel(channel.id, error.retryAfterMs)
          : (error as Error);
      for (const item of toSend) results.set(item.contactId, failure);
      return;
    }
    await markRecipientsSent(this.deps.pool, ids, sendmailIds);
    toSend.forEach((item, i) => {
      results.set(item.contactId, {
        status: "sent",
        sendmailId: sendmailIds[i] as string,
        chid: item.chid,
      });
    });
    await countRealtime(this.deps, offerId, channel.id, { sent: toSend.length, calls: 1 });
  }

  /** A 429: this channel's realtime sends wait (others go on); the jobs come back after. */
  private async holdChannel(channelId: string, retryAfterMs: number | undefined) {
    const ms = retryAfterMs ?? 1000;
    await this.options.pauseChannel?.(channelId, ms);
    return new RetryLaterError(ms, "LuxSci rate limit: this channel's sends wait");
  }

  async drain(): Promise<void> {
    await this.batcher.drain();
  }
}
