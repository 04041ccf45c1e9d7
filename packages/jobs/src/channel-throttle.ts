import type { Redis } from "ioredis";

// Per-channel holds in Redis, shared by every worker of a deployment: the channel's own
// requests-per-minute limit, and the pause LuxSci asks for with a 429. Both are per channel:
// one account's limit never slows another's sends (a queue-wide rate limit would).

export interface ChannelThrottle {
  /** Counts one call against the channel's per-minute limit; ms to wait first, or 0. */
  waitForRate(channelId: string, perMinute: number): Promise<number>;
  /** How long (ms) the channel is still held after a 429, or 0. */
  pausedFor(channelId: string): Promise<number>;
  /** Holds the channel's calls for `ms` (never shortens a longer hold). */
  pause(channelId: string, ms: number): Promise<void>;
}

/** A fixed one-minute window per channel, and a hold key whose TTL is the pause. */
export function channelThrottle(redis: Redis, prefix: string): ChannelThrottle {
  const holdKey = (channelId: string) => `${prefix}:hold:${channelId}`;
  return {
    async waitForRate(channelId, perMinute) {
      const minute = Math.floor(Date.now() / 60_000);
      const key = `${prefix}:ratelimit:${channelId}:${minute}`;
      const [[, count]] = (await redis.multi().incr(key).expire(key, 120).exec()) as [
        [null, number],
      ];
      return count > perMinute ? (minute + 1) * 60_000 - Date.now() + 50 : 0;
    },
    async pausedFor(channelId) {
      return Math.max(0, await redis.pttl(holdKey(channelId)));
    },
    async pause(channelId, ms) {
      const key = holdKey(channelId);
      const left = await redis.pttl(key);
      if (left < ms) await redis.set(key, "429", "PX", Math.max(1, Math.ceil(ms)));
    },
  };
}
