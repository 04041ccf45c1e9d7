// The catalogue of queues (docs/architecture.md "Code style" 2). Producers and workers import these
// names, never string literals, so a queue can't be misspelled on one side. Payload schemas and
// default job options join each entry as the issues that own the queues add their jobs.

export const QUEUE_NAMES = {
  /** One job per execution: stream the audience, cut batches, enqueue the send flow. */
  plan: "plan",
  /** One job per batch of <=1000 recipients (job id batch-<id>). */
  send: "send",
  /** Parent of an execution's send jobs: delete templates, write the interaction log. */
  finalize: "finalize",
  /** Single-contact sends gathered by the micro-batcher. */
  realtime: "realtime",
  /** Inbound report sync per channel (API pages). */
  reports: "reports",
  /** Async SFTP exports; global concurrency = LuxSci's max_jobs. */
  exports: "exports",
  /** Template retention, state-file sweeps. */
  housekeeping: "housekeeping",
} as const;

export type TQueueName = (typeof QUEUE_NAMES)[keyof typeof QUEUE_NAMES];

export const ALL_QUEUES: readonly TQueueName[] = Object.values(QUEUE_NAMES);

/** Which queues each worker role (WORKER_QUEUES) consumes. */
export const ROLE_QUEUES = {
  send: [QUEUE_NAMES.plan, QUEUE_NAMES.send, QUEUE_NAMES.finalize],
  reports: [QUEUE_NAMES.reports, QUEUE_NAMES.exports],
  housekeeping: [QUEUE_NAMES.housekeeping],
  realtime: [QUEUE_NAMES.realtime],
} as const satisfies Record<string, readonly TQueueName[]>;

/**
 * Job ids are business keys (docs/architecture.md "Code style" 3) so that enqueueing twice is a
 * no-op. BullMQ forbids ':' in custom ids (it separates key parts), so refuse it here, early and
 * clearly.
 */
export function jobId(kind: string, ...parts: (string | number)[]): string {
  const id = [kind, ...parts].join("-");
  if (id.includes(":")) throw new Error(`job id must not contain ':' (got ${id})`);
  return id;
}
