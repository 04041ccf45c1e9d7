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
  return {
    prefix,
    connection,
    async cleanup() {
      await obliterateQueues(ALL_QUEUES, { connection, prefix });
      let cursor = "0";
      do {
        const [next, keys] = await connection.scan(cursor, "MATCH", `${prefix}:*`, "COUNT", 1000);
        if (keys.length > 0) await connection.unlink(...keys);
        cursor = next;
      } while (cursor !== "0");
      await connection.quit();
    },
  };
}
