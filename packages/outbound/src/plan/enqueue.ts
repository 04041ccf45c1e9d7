import {
  JOB_NAMES,
  jobId,
  type TFinalizePayload,
  type TPlanPayload,
  type TSendBatchPayload,
} from "@luxrelay/jobs";
import type { OutboundDeps } from "../context.ts";

// Seed 000 step 6 as a BullMQ flow: one send job per batch, all children of the execution's
// finalize job, which runs once every batch has ended (sent or failed). Job ids are business
// keys, so enqueueing the same round twice adds nothing.

export interface SendRetryPolicy {
  /** Attempts per batch job (the channel's API retries). */
  attempts: number;
  /** First backoff step; doubles each attempt, with jitter. */
  backoffMs: number;
}

export function sendJobId(batchId: number, round: number): string {
  return round === 0 ? jobId("batch", batchId) : jobId("batch", batchId, `r${round}`);
}

export function finalizeJobId(executionId: number, round: number): string {
  return round === 0 ? jobId("finalize", executionId) : jobId("finalize", executionId, `r${round}`);
}

export function planJobId(executionId: number, round: number): string {
  return round === 0 ? jobId("plan", executionId) : jobId("plan", executionId, `r${round}`);
}

/** Plan jobs: a few tries (a database or LuxSci hiccup), then the execution fails. */
const PLAN_ATTEMPTS = 5;

/**
 * The plan job of an execution's round (round 0: its first plan, delayed until `sendAt`; a
 * replay's round re-makes templates and adds that round's send flow). Adding it twice adds
 * nothing.
 */
export async function enqueuePlan(
  deps: OutboundDeps,
  executionId: number,
  round: number,
  delayMs = 0,
): Promise<void> {
  const payload: TPlanPayload = { executionId };
  await deps.queues.plan.add(JOB_NAMES.plan, payload, {
    jobId: planJobId(executionId, round),
    delay: Math.max(0, delayMs),
    attempts: PLAN_ATTEMPTS,
    backoff: { type: "exponential", delay: deps.retryBaseMs },
    removeOnComplete: { age: 7 * 86_400 },
    removeOnFail: { age: 7 * 86_400 },
  });
}

const FINALIZE_ATTEMPTS = 8;

export async function enqueueSendFlow(
  deps: OutboundDeps,
  executionId: number,
  batchIds: readonly number[],
  round: number,
  policy: SendRetryPolicy,
): Promise<void> {
  const finalize: TFinalizePayload = { executionId, round };
  await deps.flow.add({
    name: JOB_NAMES.finalize,
    queueName: deps.queues.finalize.name,
    data: finalize,
    opts: {
      jobId: finalizeJobId(executionId, round),
      // Finalize retries too: a database error or LuxSci failing a template delete must not
      // strand the execution (its last attempt ends the execution anyway).
      attempts: FINALIZE_ATTEMPTS,
      backoff: { type: "exponential", delay: policy.backoffMs },
      removeOnComplete: { age: 7 * 86_400 },
      removeOnFail: { age: 7 * 86_400 },
    },
    children: batchIds.map((batchId) => {
      const data: TSendBatchPayload = { executionId, batchId };
      return {
        name: JOB_NAMES.send,
        queueName: deps.queues.send.name,
        data,
        opts: {
          jobId: sendJobId(batchId, round),
          attempts: Math.max(1, policy.attempts),
          backoff: { type: "exponential", delay: policy.backoffMs, jitter: 0.2 },
          // A failed batch must not block finalize: it is logged and can be replayed.
          ignoreDependencyOnFailure: true,
          removeOnComplete: { age: 86_400, count: 10_000 },
          removeOnFail: { age: 7 * 86_400 },
        },
      };
    }),
  });
}
