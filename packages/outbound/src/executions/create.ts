import { ZAudience } from "../audience/source.ts";
import type { OutboundDeps } from "../context.ts";
import { NotFoundError, OutboundInputError } from "../errors.ts";
import { enqueuePlan } from "../plan/enqueue.ts";

// DESIGN "Outbound" 1 and 10: an execution of an offer on a channel, now or at `sendAt`.
// LuxSci cannot schedule, so a scheduled execution is a delayed plan job: planning (and so
// suppression) happens at send time, against the suppression list of that moment.

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
    include: { variants: { select: { id: true } } },
  });
  if (!offer) throw new NotFoundError("offer", input.offerId);
  if (offer.variants.length === 0) {
    throw new OutboundInputError("offerId", `offer ${offer.id} has no content variants`);
  }
  const channel = await deps.prisma.channel.findUnique({ where: { id: input.channelId } });
  if (!channel) throw new NotFoundError("channel", input.channelId);
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
