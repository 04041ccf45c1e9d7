import { setImmediate } from "node:timers/promises";
import { type Channel, copyLines } from "@luxrelay/db";
import { LuxSciError } from "@luxrelay/luxsci";
import { UnrecoverableError } from "bullmq";
import { readAudience, ZAudience } from "../audience/source.ts";
import { checkAudienceTable } from "../audience/table.ts";
import type { OutboundDeps } from "../context.ts";
import { OutboundInputError } from "../errors.ts";
import { trackingIdOf } from "../ids.ts";
import { writeLog } from "../log.ts";
import {
  type ExecutionRow,
  loadChannel,
  loadExecution,
  loadOffer,
  type OfferRow,
  type VariantRow,
} from "../rows.ts";
import { withTransaction } from "../tx.ts";
import { loadExecutionContent, saveExecutionContent } from "./content.ts";
import { enqueueSendFlow } from "./enqueue.ts";
import { BatchPlanner, RECIPIENT_COLUMNS } from "./plan-rows.ts";
import { ensureTemplates } from "./templates.ts";
import { compileVariants, variantChooser, ZVariantRule } from "./variants.ts";

// Seed 000 outbound steps 1-6 as one job (docs/architecture.md "Outbound" 2-3): connectivity test,
// stream the audience into batches, persist recipients and batches in one transaction (COPY), one
// template per content group, tracking id, then the send flow. Every step can run twice: a
// re-run finds the batches already there and only finishes what is missing.

export interface PlanResult {
  executionId: number;
  status: string;
  batches: number;
  recipients: number;
}

const SEND_STATUSES = new Set(["scheduled", "planning", "sending", "paused"]);
/** The longest planning renders without letting timers (the job's lock renewal) run. */
const PLAN_TURN_MS = 100;

/**
 * Plans an execution, and ends it `failed` with the reason when planning can't succeed: at
 * once for a problem that would fail the same way again (the audience, the variants or their
 * rule, a missing row, LuxSci refusing the channel), after the job's last attempt for anything
 * else. Either way `send --wait` sees the execution end.
 */
export async function planExecution(
  deps: OutboundDeps,
  executionId: number,
  options: { lastAttempt?: boolean } = {},
): Promise<PlanResult> {
  try {
    return await planOnce(deps, executionId);
  } catch (error) {
    const final = isPermanent(error);
    if (final || options.lastAttempt) {
      await failExecution(deps, executionId, `planning failed: ${(error as Error).message}`);
      throw final ? error : new UnrecoverableError((error as Error).message);
    }
    throw error;
  }
}

/** Problems that fail the same way on every attempt. */
function isPermanent(error: unknown): boolean {
  if (error instanceof UnrecoverableError || error instanceof OutboundInputError) return true;
  const name = (error as Error)?.name;
  return name === "ZodError" || name === "TemplateError" || name === "LuxSciValidationError";
}

/** The execution ends failed with the reason (unless it ended already), logged once. */
export async function failExecution(
  deps: OutboundDeps,
  executionId: number,
  reason: string,
): Promise<void> {
  const ended = await deps.pool.query<{ offer_id: number; channel_id: string }>(
    `UPDATE execution SET status = 'failed', error = $2, completed_at = now(), updated_at = now()
     WHERE id = $1 AND status IN ('scheduled', 'planning', 'sending', 'paused')
     RETURNING offer_id, channel_id`,
    [executionId, reason.slice(0, 2000)],
  );
  const row = ended.rows[0];
  if (!row) return;
  await writeLog(deps, {
    executionId,
    offerId: row.offer_id,
    channelId: row.channel_id,
    level: "error",
    message: reason,
  });
  deps.logger.error({ executionId, err: reason }, "execution failed");
}

async function planOnce(deps: OutboundDeps, executionId: number): Promise<PlanResult> {
  const { pool, logger } = deps;
  const execution = await loadExecution(pool, executionId);
  if (!execution) throw new UnrecoverableError(`execution ${executionId} not found`);
  const log = logger.child({ executionId });
  if (!SEND_STATUSES.has(execution.status)) {
    log.info({ status: execution.status }, "execution not plannable, skipped");
    return { executionId, status: execution.status, batches: 0, recipients: 0 };
  }
  const [channel, offer] = await Promise.all([
    loadChannel(pool, execution.channelId),
    loadOffer(pool, execution.offerId),
  ]);
  const client = deps.luxsci.client(channel);

  // Step 1: connectivity test before anything is queued.
  try {
    await client.getProfile();
  } catch (error) {
    // LuxSci busy or limiting (it answers some limits with 401): the plan job tries again.
    if (error instanceof LuxSciError && error.retryable) throw error;
    // The plan's own message would say "planning failed: connectivity test failed: ...".
    const reason = `connectivity test failed: ${(error as Error).message}`;
    await failExecution(deps, executionId, reason);
    throw new UnrecoverableError(reason);
  }
  if (execution.status === "scheduled") {
    await pool.query(
      `UPDATE execution SET status = 'planning', started_at = now(), updated_at = now()
       WHERE id = $1 AND status = 'scheduled'`,
      [executionId],
    );
  }

  let batches = await loadBatches(deps, executionId);
  if (batches.length === 0) {
    await persistPlan(deps, executionId, execution, channel, offer);
    batches = await loadBatches(deps, executionId);
  }
  // From here on, the content as planned (a variant edited since changes nothing).
  const variants = await loadExecutionContent(pool, execution);

  // Step 3: templates, then the batches point at them.
  // Only content that still has batches to send (a replay's round: its failed batches).
  const unended = batches.filter((batch) => batch.state === "pending" || batch.state === "sending");
  const hashes = [...new Set(unended.map((batch) => batch.contentHash))];
  const templates = await ensureTemplates(
    deps,
    client,
    {
      executionId,
      offerId: offer.id,
      channelId: channel.id,
      clientId: channel.clientId,
      secure: channel.secure,
    },
    variants,
    hashes,
  );
  for (const [contentHash, templateId] of templates) {
    await pool.query(
      `UPDATE batch SET template_id = $3, updated_at = now()
       WHERE execution_id = $1 AND content_hash = $2 AND template_id IS NULL`,
      [executionId, contentHash, templateId],
    );
  }

  // Step 7 (saved early so inbound sync can match events as soon as they exist).
  const trackingId = trackingIdOf(executionId, offer.id, channel.id);
  await pool.query(
    `INSERT INTO tracking (tracking_id, execution_id, offer_id, channel_id)
     VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`,
    [trackingId, executionId, offer.id, channel.id],
  );

  // The round's send flow: every batch not ended yet (a re-run adds only what is missing).
  const open = unended.map((batch) => batch.id);
  await enqueueSendFlow(deps, executionId, open, execution.round, {
    attempts: channel.apiRetries,
    backoffMs: deps.retryBaseMs,
  });
  await pool.query(
    `UPDATE execution SET status = 'sending', updated_at = now()
     WHERE id = $1 AND status = 'planning'`,
    [executionId],
  );
  const after = (await loadExecution(pool, executionId)) as ExecutionRow;
  log.info({ batches: batches.length, trackingId }, "execution planned, batches enqueued");
  return {
    executionId,
    status: after.status,
    batches: batches.length,
    recipients: after.recipientsTotal,
  };
}

async function loadBatches(deps: OutboundDeps, executionId: number) {
  const result = await deps.pool.query<{ id: number; contentHash: string; state: string }>(
    `SELECT id, content_hash AS "contentHash", state FROM batch
     WHERE execution_id = $1 ORDER BY seq`,
    [executionId],
  );
  return result.rows;
}

/** Steps 2-5 in one transaction: recipients and batches appear together or not at all. */
async function persistPlan(
  deps: OutboundDeps,
  executionId: number,
  execution: ExecutionRow,
  channel: Channel,
  offer: OfferRow & { variants: VariantRow[] },
): Promise<void> {
  const variants = compileVariants(offer.variants);
  const audience = ZAudience.parse(execution.audience);
  // Checked when the execution was created too; the allow-list may have changed since.
  if (audience.type === "table") {
    await checkAudienceTable(deps.pool, audience.name, deps.audience.tables);
  }
  const rule = offer.variantRule === null ? null : ZVariantRule.parse(offer.variantRule);
  const seeds = Array.isArray(offer.seeds) ? (offer.seeds as unknown[]).map(String) : [];
  const suppressed = channel.autoSuppress ? await loadSuppressed(deps) : null;
  const planner = new BatchPlanner({
    executionId,
    offerId: offer.id,
    channelId: channel.id,
    batchSize: Math.min(channel.batchSize, deps.defaults.batchSize, 1000),
    suppressed,
    choose: variantChooser(variants, offer.variantAttribute, rule),
    seeds,
  });

  const timings: Record<string, number> = {};
  let mark = performance.now();
  const lap = (name: string) => {
    const now = performance.now();
    timings[name] = Math.round(now - mark);
    mark = now;
  };
  await withTransaction(deps.pool, async (db) => {
    // Recipients go straight into their table (COPY), batches after them: one transaction.
    await copyLines(db, { table: "recipient", columns: RECIPIENT_COLUMNS }, async (emit) => {
      let turnAt = performance.now();
      for await (const row of readAudience(audience, deps.pool, deps.audience)) {
        const line = planner.take(row);
        // A chunk of rows is read and rendered without a turn of the event loop; renders that
        // run up to their time budget must not hold off the timers that renew the job's lock.
        if (performance.now() - turnAt > PLAN_TURN_MS) {
          await setImmediate();
          turnAt = performance.now();
        }
        if (line === null) continue;
        const wait = emit(line);
        if (wait) await wait;
      }
      for (const line of planner.seedLines()) await emit(line);
    });
    lap("streamRenderCopyMs");
    const { batches, counts, problems } = planner;
    await db.query(
      `INSERT INTO batch (execution_id, seq, variant_id, content_hash, recipient_count, updated_at)
       SELECT $1, seq, variant_id, content_hash, recipient_count, now()
       FROM unnest($2::int[], $3::int[], $4::text[], $5::int[])
         AS b(seq, variant_id, content_hash, recipient_count)`,
      [
        executionId,
        batches.map((b) => b.seq),
        batches.map((b) => b.variantId),
        batches.map((b) => b.contentHash),
        batches.map((b) => b.count),
      ],
    );
    lap("insertBatchesMs");
    await saveExecutionContent(db, executionId, offer.variants, variants);
    await db.query(
      `UPDATE execution SET recipients_total = $2, recipients_invalid = $3,
         recipients_duplicate = $4, recipients_suppressed = $5, seeds_sent = $6,
         batches_total = $7, updated_at = now() WHERE id = $1`,
      [
        executionId,
        counts.read,
        counts.invalid,
        counts.duplicate,
        counts.suppressed,
        counts.seeds,
        batches.length,
      ],
    );
    await db.query(
      `INSERT INTO interaction_log (execution_id, offer_id, channel_id, level, message, data)
       VALUES ($1, $2, $3, $4, $5, $6)`,
      [
        executionId,
        offer.id,
        channel.id,
        counts.invalid > 0 ? "warn" : "info",
        `planned ${counts.planned} recipients and ${counts.seeds} seeds in ${batches.length} batches; ` +
          `${counts.invalid} invalid, ${counts.duplicate} duplicate, ${counts.suppressed} suppressed`,
        JSON.stringify({ ...counts, batches: batches.length, invalidRows: problems }),
      ],
    );
  });
  lap("commitMs");
  deps.logger.info({ executionId, ...planner.counts, ...timings }, "audience planned");
}

/** Seed 000 step 2: the local suppression table (unsubscribes, hard fails, complaints...). */
async function loadSuppressed(deps: OutboundDeps): Promise<Set<string>> {
  const result = await deps.pool.query<{ email: string }>(
    "SELECT DISTINCT lower(email) AS email FROM suppression",
  );
  return new Set(result.rows.map((row) => row.email));
}
