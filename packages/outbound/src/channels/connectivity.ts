import type { OutboundDeps } from "../context.ts";
import { NotFoundError } from "../errors.ts";

// Seed 000 outbound step 1 on demand (`luxrelay channel test`): auth + GET /profile.

export async function testChannelConnectivity(deps: OutboundDeps, channelId: string) {
  const channel = await deps.prisma.channel.findUnique({ where: { id: channelId } });
  if (!channel) throw new NotFoundError("channel", channelId);
  return deps.luxsci.testConnectivity(channel);
}
