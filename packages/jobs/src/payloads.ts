import { z } from "zod";
import { jobId } from "./queues.ts";

// Payload schemas of every job (docs/architecture.md "Code style" 2, 3): producers and workers
// import the same entry, and a payload carries ids only (claim check): recipients, content and
// credentials stay in PostgreSQL. Workers parse at the door with safeParse.

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

/** `reports` queue: one sync run of a channel (scheduled, or asked for now). */
export const ZSyncPayload = z.object({
  channelId: z.string().regex(/^[0-9a-f]{32}$/),
  reason: z.enum(["scheduled", "manual"]).default("scheduled"),
});
export type TSyncPayload = z.infer<typeof ZSyncPayload>;

/** `exports` queue: the next step of one async export (export_job row). */
export const ZExportStepPayload = z.object({ exportJobId: id });
export type TExportStepPayload = z.infer<typeof ZExportStepPayload>;

/** `housekeeping` queue: sweeps, retention, and the reconciler (Redis rebuilt from PostgreSQL). */
export const ZHousekeepingPayload = z.object({
  task: z.enum([
    "sweep-report-files",
    "sweep-audience-files",
    "expire-realtime-templates",
    "reconcile",
  ]),
});
export type THousekeepingPayload = z.infer<typeof ZHousekeepingPayload>;

/** A realtime contact's attributes, as JSON, may not exceed this (a job is no place for files). */
export const MAX_REALTIME_ATTRIBUTES_BYTES = 32 * 1024;

/**
 * `realtime` queue: one contact to send an offer to now (seed 000: queue listeners). Other
 * systems may add these jobs themselves; the job id must be
 * `realtimeJobId(offerId, idempotencyKey, part)` so a repeated key is one job, and one email
 * at most.
 */
export const ZRealtimePayload = z.object({
  offerId: id,
  channelId: z.string().regex(/^[0-9a-f]{32}$/, { error: "expected a channel id (32 hex)" }),
  idempotencyKey: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,120}$/, { error: "expected 1-120 letters, digits, _ . or -" }),
  /**
   * The contact's place (1-based) in a request of several contacts under one key: each is its
   * own send, `<key>~<part>`, which no single-contact key can spell (keys have no `~`).
   */
  part: z.number().int().min(1).max(1000).optional(),
  contact: z.object({
    email: z.string().min(3).max(254),
    contactId: z
      .string()
      .regex(/^[^\s~]{1,120}$/, { error: "expected 1-120 characters without spaces or ~" })
      .optional(),
    /** Template variables of this contact (any JSON values), at most 32 KiB as JSON. */
    attributes: z
      .record(z.string(), z.unknown())
      .default({})
      .refine(
        (value) => Buffer.byteLength(JSON.stringify(value)) <= MAX_REALTIME_ATTRIBUTES_BYTES,
        {
          error: `expected at most ${MAX_REALTIME_ATTRIBUTES_BYTES} bytes of attributes as JSON`,
        },
      ),
  }),
});
export type TRealtimePayload = z.infer<typeof ZRealtimePayload>;

/** The key a realtime send is known by: `<key>`, or `<key>~<part>` in a multi-contact request. */
export function realtimeKey(idempotencyKey: string, part?: number): string {
  return part === undefined ? idempotencyKey : `${idempotencyKey}~${part}`;
}

export function realtimeJobId(offerId: number, idempotencyKey: string, part?: number): string {
  return jobId("rt", offerId, realtimeKey(idempotencyKey, part));
}

export const JOB_NAMES = {
  plan: "plan",
  send: "send-batch",
  finalize: "finalize",
  sync: "sync",
  exportStep: "export-step",
  housekeeping: "housekeeping",
  realtime: "realtime-send",
} as const;
