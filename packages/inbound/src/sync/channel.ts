import type { SyncDeps } from "../context.ts";

// The channel as sync sees it, and the chid filter every report query carries.

export const REPORT_KINDS = ["sent", "delivery", "opens", "clicks", "fbl"] as const;

/** Seed 000: `header1=chid&header1_operator=like&header1_value=_<channel_id>`. */
export function chidFilter(channelId: string) {
  return { name: "chid", operator: "like" as const, value: `_${channelId}` };
}

export async function loadChannel(deps: SyncDeps, channelId: string) {
  return deps.prisma.channel.findUniqueOrThrow({ where: { id: channelId } });
}

/** The timezone report dates are read in: UTC unless the channel overrides (seed step 8). */
export function channelTimezone(channel: { eventTimezoneOverride: boolean }): string | null {
  return channel.eventTimezoneOverride ? Intl.DateTimeFormat().resolvedOptions().timeZone : null;
}
