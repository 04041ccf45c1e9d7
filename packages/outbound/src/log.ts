import type { OutboundDeps } from "./context.ts";

// The Interaction Log (seed 000 "Logging", step 9): what an execution did, in words and figures.

export interface LogEntry {
  executionId: number;
  offerId: number;
  channelId: string;
  level?: "info" | "warn" | "error";
  message: string;
  data?: Record<string, unknown>;
}

export async function writeLog(deps: OutboundDeps, entry: LogEntry): Promise<void> {
  await deps.prisma.interactionLog.create({
    data: {
      executionId: entry.executionId,
      offerId: entry.offerId,
      channelId: entry.channelId,
      level: entry.level ?? "info",
      message: entry.message,
      data: (entry.data ?? undefined) as never,
    },
  });
}
