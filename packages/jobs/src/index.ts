export { createRedisConnection, type RedisConnectionOptions } from "./connection.ts";
export { uniqueQueuePrefix } from "./prefix.ts";
export { createQueue, obliterateQueues, type QueueContext } from "./queue-factory.ts";
export { ALL_QUEUES, jobId, QUEUE_NAMES, ROLE_QUEUES, type TQueueName } from "./queues.ts";
