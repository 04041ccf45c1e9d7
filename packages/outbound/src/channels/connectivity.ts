import type { OutboundDeps } from "../context.ts";
import { NotFoundError } from "../errors.ts";

// Seed 000 outbound step 1 on demand (`luxrelay channel test`): auth + GET /profile.

export async function testChannelConnectivity(deps: OutboundDeps, channelId: string) {
  const channel = await deps.prisma.channel.findUnique({ where: { id: channelId } });
  if (!channel) throw new NotFoundError("channel", channelId);
  const started = performance.now();
  try {
    const profile = await deps.luxsci(channel).getProfile();
    return {
      ok: true as const,
      ms: Math.round(performance.now() - started),
      account: profile.account ?? null,
      uid: profile.uid ?? null,
    };
  } catch (error) {
    return {
      ok: false as const,
      ms: Math.round(performance.now() - started),
      error: (error as Error).message,
    };
  }
}
