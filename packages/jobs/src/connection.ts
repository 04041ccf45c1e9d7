import { Redis, type RedisOptions } from "ioredis";

export interface RedisConnectionOptions {
  redisUrl: string;
  /** Name shown in CLIENT LIST, handy when many workers share a Redis. */
  connectionName?: string;
  extra?: RedisOptions;
}

/**
 * An ioredis connection as BullMQ needs it: maxRetriesPerRequest null so blocking commands
 * wait through a Redis restart instead of failing the worker, and an offline queue so commands
 * issued while reconnecting are sent once Redis is back (BullMQ docs, "Going to production").
 */
export function createRedisConnection(options: RedisConnectionOptions): Redis {
  return new Redis(options.redisUrl, {
    maxRetriesPerRequest: null,
    enableReadyCheck: true,
    connectionName: options.connectionName,
    // Back off up to 5 s between reconnects; never give up (the process decides when to stop).
    retryStrategy: (attempt) => Math.min(attempt * 200, 5000),
    ...options.extra,
  });
}
