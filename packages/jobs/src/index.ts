export { createRedisConnection, type RedisConnectionOptions } from "./connection.ts";
export {
  JOB_NAMES,
  type TFinalizePayload,
  type TPlanPayload,
  type TSendBatchPayload,
  ZFinalizePayload,
  ZPlanPayload,
  ZSendBatchPayload,
} from "./payloads.ts";
export { uniqueQueuePrefix } from "./prefix.ts";
export {
  createFlowProducer,
  createQueue,
  obliterateQueues,
  type QueueContext,
} from "./queue-factory.ts";
export { ALL_QUEUES, jobId, QUEUE_NAMES, ROLE_QUEUES, type TQueueName } from "./queues.ts";
