import { decryptChannelSecret } from "@luxrelay/db";
import type { Logger } from "@luxrelay/logger";
import { LuxSciClient } from "@luxrelay/luxsci";
import type { ChannelCredentials } from "./context.ts";

// One LuxSci client per channel and process (keep-alive pools are per client), rebuilt when
// the channel row changes. Two flavours: the general one retries 429 itself; the send one
// surfaces 429 at once so the send job holds its channel, and never queues a request.

export interface LuxSciFactoryOptions {
  secretKey: Buffer;
  /** SECRET_KEY_PREVIOUS: still accepted while a rotation is under way. */
  previousSecretKeys?: readonly Buffer[];
  retryBaseMs: number;
  timeoutMs: number;
  logger?: Logger;
}

export function createLuxSciClientFactory(options: LuxSciFactoryOptions) {
  const clients = new Map<string, LuxSciClient>();
  const keys = [options.secretKey, ...(options.previousSecretKeys ?? [])];
  const factory = (channel: ChannelCredentials, use: { forSend?: boolean } = {}) => {
    const key = `${channel.id}:${channel.updatedAt.getTime()}:${use.forSend ? "send" : "api"}`;
    let client = clients.get(key);
    if (!client) {
      for (const [old, stale] of clients) {
        if (old.startsWith(`${channel.id}:`) && old.endsWith(use.forSend ? "send" : "api")) {
          clients.delete(old);
          void stale.close();
        }
      }
      client = new LuxSciClient({
        baseUrl: channel.apiUrl,
        user: channel.luxsciUser,
        token: channel.luxsciToken,
        secret: decryptChannelSecret("luxsciSecretEnc", channel.luxsciSecretEnc, channel.id, keys),
        password: channel.luxsciPasswordEnc
          ? decryptChannelSecret("luxsciPasswordEnc", channel.luxsciPasswordEnc, channel.id, keys)
          : undefined,
        retries: channel.apiRetries,
        retryBaseMs: options.retryBaseMs,
        timeoutMs: options.timeoutMs,
        retryRateLimited: !use.forSend,
        // A send must leave when its call starts: waiting in a connection queue would let its
        // unsettled mark's deadline run out before the request even left (send/settle.ts).
        // Concurrent sends are bounded by the job concurrency, not here.
        ...(use.forSend ? { poolOptions: { connections: null } } : {}),
        logger: options.logger,
      });
      clients.set(key, client);
    }
    return client;
  };
  return Object.assign(factory, {
    async closeAll(): Promise<void> {
      await Promise.all([...clients.values()].map((client) => client.close()));
      clients.clear();
    },
  });
}
