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
