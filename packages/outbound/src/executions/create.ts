import { utimes } from "node:fs/promises";
import { inspectAudienceFile } from "../audience/inspect.ts";
import { type TAudience, ZAudience } from "../audience/source.ts";
import { checkAudienceTable } from "../audience/table.ts";
import type { OutboundDeps } from "../context.ts";
import { NotFoundError, OutboundInputError } from "../errors.ts";
import { enqueuePlan } from "../plan/enqueue.ts";
import { splitRuleProblem, ZVariantRule } from "../plan/variants.ts";

// docs/architecture.md "Outbound" 1 and 10: an execution of an offer on a channel, now or at
// `sendAt`. LuxSci cannot schedule, so a scheduled execution is a delayed plan job: planning (and
// so suppression) happens at send time, against the suppression list of that moment. What the
// plan would only fail on later (issue 14) is refused here: a split rule naming a variant the
// offer lacks, a table audience not allowed or not there, a file with no rows or no email.

export interface CreateExecutionInput {
  offerId: number;
  channelId: string;
  audience: unknown;
  sendAt?: Date | null;
}

export async function createExecution(deps: OutboundDeps, input: CreateExecutionInput) {
  const audience = ZAudience.safeParse(input.audience);
  if (!audience.success) {
    throw new OutboundInputError(
      "audience",
      audience.error.issues.map((i) => i.message).join("; "),
    );
  }
  const offer = await deps.prisma.offer.findUnique({
    where: { id: input.offerId },
    include: { variants: { select: { key: true } } },
  });
  if (!offer) throw new NotFoundError("offer", input.offerId);
  if (offer.variants.length === 0) {
    throw new OutboundInputError("offerId", `offer ${offer.id} has no content variants`);
  }
  if (!offer.variantAttribute && offer.variantRule !== null) {
    const rule = ZVariantRule.safeParse(offer.variantRule);
    const problem = rule.success
      ? splitRuleProblem(
          rule.data,
          offer.variants.map((variant) => variant.key),
        )
      : rule.error.issues[0]?.message;
    if (problem) {
      throw new OutboundInputError("offerId", `offer ${offer.id}'s variantRule: ${problem}`);
    }
  }
  const channel = await deps.prisma.channel.findUnique({ where: { id: input.channelId } });
  if (!channel) throw new NotFoundError("channel", input.channelId);
  await checkAudience(deps, audience.data);
  const execution = await deps.prisma.execution.create({
    data: {
      offerId: offer.id,
      channelId: channel.id,
      audience: audience.data,
      sendAt: input.sendAt ?? null,
      status: "scheduled",
    },
  });
  // Committed before its job is added: if the add fails (Redis down), the reconciler adds it.
  const delay = input.sendAt ? Math.max(0, input.sendAt.getTime() - Date.now()) : 0;
  await enqueuePlan(deps, execution.id, 0, delay);
  deps.logger.info({ executionId: execution.id, delay }, "execution created");
  return execution;
}

/** The audience as the plan will find it: an allowed table with an email column, or a file. */
async function checkAudience(deps: OutboundDeps, audience: TAudience): Promise<void> {
  if (audience.type === "table") {
    await checkAudienceTable(deps.pool, audience.name, deps.audience.tables);
    return;
  }
  const problem = await inspectAudienceFile(
    audience.path,
    audience.format,
    deps.audience.maxRecordBytes,
  ).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== "ENOENT") throw error;
    return { field: "rows", message: `no such file ${audience.path}` };
  });
  if (problem) throw new OutboundInputError("audience", problem.message);
  // A file an execution is about to read counts as fresh for the retention sweep, which
  // deletes by age: an old upload sent again is not swept while its plan waits.
  const now = new Date();
  await utimes(audience.path, now, now);
}
