import { loadConfig } from "@luxrelay/config";
import {
  ALL_QUEUES,
  createRedisConnection,
  obliterateQueues,
  uniqueQueuePrefix,
} from "@luxrelay/jobs";
import type { Redis } from "ioredis";

export interface TestQueues {
  prefix: string;
  connection: Redis;
  /**
   * Deletes every key under the prefix (jobs, queues, locks, the events stream) and returns how
   * many: what a Redis that lost its keys, or an `obliterate` from a dashboard, leaves behind.
   */
  deleteKeys(): Promise<number>;
  /**
   * Obliterates every queue under the prefix, deletes its other keys (the events stream, sync
   * locks, marks) and closes the connection.
   */
  cleanup(): Promise<void>;
}

/**
 * A Redis connection and a queue prefix no other test file uses, on the machine's Redis or on
 * `redisUrl` (a test's own server).
 */
export function createTestQueues(redisUrl = loadConfig().redisUrl): TestQueues {
  const prefix = uniqueQueuePrefix();
  const connection = createRedisConnection({ redisUrl, connectionName: prefix });
  const deleteKeys = async () => {
    let cursor = "0";
    let deleted = 0;
    do {
      const [next, keys] = await connection.scan(cursor, "MATCH", `${prefix}:*`, "COUNT", 1000);
      if (keys.length > 0) deleted += await connection.unlink(...keys);
      cursor = next;
    } while (cursor !== "0");
    return deleted;
  };
  return {
    prefix,
    connection,
    deleteKeys,
    async cleanup() {
      await obliterateQueues(ALL_QUEUES, { connection, prefix });
      await deleteKeys();
      await connection.quit();
    },
  };
}
