import { z } from "zod";

// Payload schemas of every job (STYLE.md 2, 3): producers and workers import the same entry,
// and a payload carries ids only (claim check): recipients, content and credentials stay in
// PostgreSQL. Workers parse at the door with safeParse.

const id = z.number().int().positive();

/** `plan` queue: stream an execution's audience, persist batches, enqueue the send flow. */
export const ZPlanPayload = z.object({ executionId: id });
export type TPlanPayload = z.infer<typeof ZPlanPayload>;

/** `send` queue: one batch of <= 1000 recipients (job id `batch-<batchId>`). */
export const ZSendBatchPayload = z.object({ executionId: id, batchId: id });
export type TSendBatchPayload = z.infer<typeof ZSendBatchPayload>;

/** `finalize` queue: the parent of an execution's send jobs. */
export const ZFinalizePayload = z.object({
  executionId: id,
  /** 0 for the first flow; n for the n-th replay. */
  round: z.number().int().min(0).default(0),
});
export type TFinalizePayload = z.infer<typeof ZFinalizePayload>;

export const JOB_NAMES = { plan: "plan", send: "send-batch", finalize: "finalize" } as const;
