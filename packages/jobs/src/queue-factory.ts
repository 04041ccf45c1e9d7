import { FlowProducer, Queue } from "bullmq";
import type { Redis } from "ioredis";
import type { TQueueName } from "./queues.ts";

export interface QueueContext {
  connection: Redis;
  prefix: string;
}

/** A BullMQ queue under the deployment's prefix, on a shared connection. */
export function createQueue(name: TQueueName, context: QueueContext): Queue {
  return new Queue(name, { connection: context.connection, prefix: context.prefix });
}

/** A FlowProducer under the same prefix (parent/child jobs: an execution's send flow). */
export function createFlowProducer(context: QueueContext): FlowProducer {
  return new FlowProducer({ connection: context.connection, prefix: context.prefix });
}

/** Removes every key of the given queues under a prefix (tests clean up with this). */
export async function obliterateQueues(
  names: readonly TQueueName[],
  context: QueueContext,
): Promise<void> {
  for (const name of names) {
    const queue = createQueue(name, context);
    try {
      await queue.obliterate({ force: true });
    } finally {
      await queue.close();
    }
  }
}

/** BullMQ states of a job that will still run (or is running): not missing, completed or failed. */
const LIVE_STATES: ReadonlySet<string> = new Set([
  "waiting",
  "waiting-children",
  "delayed",
  "active",
  "prioritized",
  "paused",
]);

/** Whether the queue holds a job of this id that will still run. */
export async function isJobLive(queue: Queue, jobId: string): Promise<boolean> {
  return LIVE_STATES.has(await queue.getJobState(jobId));
}
