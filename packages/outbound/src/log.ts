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

export async function writeLog(deps: Pick<OutboundDeps, "pool">, entry: LogEntry): Promise<void> {
  await deps.pool.query(
    `INSERT INTO interaction_log (execution_id, offer_id, channel_id, level, message, data)
     VALUES ($1, $2, $3, $4, $5, $6)`,
    [
      entry.executionId,
      entry.offerId,
      entry.channelId,
      entry.level ?? "info",
      entry.message,
      entry.data === undefined ? null : JSON.stringify(entry.data),
    ],
  );
}
