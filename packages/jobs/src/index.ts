export { type ChannelThrottle, channelThrottle } from "./channel-throttle.ts";
export { createRedisConnection, type RedisConnectionOptions } from "./connection.ts";
export {
  JOB_NAMES,
  MAX_REALTIME_ATTRIBUTES_BYTES,
  realtimeJobId,
  realtimeKey,
  type TExportStepPayload,
  type TFinalizePayload,
  type THousekeepingPayload,
  type TPlanPayload,
  type TRealtimePayload,
  type TSendBatchPayload,
  type TSyncPayload,
  ZExportStepPayload,
  ZFinalizePayload,
  ZHousekeepingPayload,
  ZPlanPayload,
  ZRealtimePayload,
  ZSendBatchPayload,
  ZSyncPayload,
} from "./payloads.ts";
export { uniqueQueuePrefix } from "./prefix.ts";
export {
  createFlowProducer,
  createQueue,
  isJobLive,
  obliterateQueues,
  type QueueContext,
} from "./queue-factory.ts";
export { ALL_QUEUES, jobId, QUEUE_NAMES, ROLE_QUEUES, type TQueueName } from "./queues.ts";
