import { decryptChannelSecret } from "@luxrelay/db";
import type { Logger } from "@luxrelay/logger";
import { LuxSciClient, MAX_MESSAGES_PER_SEND } from "@luxrelay/luxsci";
import type { ChannelAdapter, ConnectivityResult } from "../adapter.ts";

// LuxSci behind the channel adapter. One client per channel and process (keep-alive pools are
// per client), rebuilt when the channel row changes. Two flavours: the general one retries 429
// itself; the send one surfaces 429 at once so the send job holds its channel, and never
// queues a request.

/** What a LuxSci client needs of a channel row: where, who, and the encrypted secrets. */
export interface ChannelCredentials {
  id: string;
  apiUrl: string;
  luxsciUser: string;
  luxsciToken: string;
  luxsciSecretEnc: string;
  luxsciPasswordEnc: string | null;
  apiRetries: number;
  updatedAt: Date;
}

export interface LuxSciAdapterOptions {
  secretKey: Buffer;
  /** SECRET_KEY_PREVIOUS: still accepted while a rotation is under way. */
  previousSecretKeys?: readonly Buffer[];
  retryBaseMs: number;
  timeoutMs: number;
  logger?: Logger;
}

export type LuxSciAdapter = ChannelAdapter<ChannelCredentials, LuxSciClient>;

export function createLuxSciAdapter(options: LuxSciAdapterOptions): LuxSciAdapter {
  const clients = new Map<string, LuxSciClient>();
  const keys = [options.secretKey, ...(options.previousSecretKeys ?? [])];

  const client = (channel: ChannelCredentials, use: { forSend?: boolean } = {}) => {
    const flavour = use.forSend ? "send" : "api";
    const key = `${channel.id}:${channel.updatedAt.getTime()}:${flavour}`;
    let cached = clients.get(key);
    if (!cached) {
      for (const [old, stale] of clients) {
        if (old.startsWith(`${channel.id}:`) && old.endsWith(flavour)) {
          clients.delete(old);
          void stale.close();
        }
      }
      cached = new LuxSciClient({
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
        // unsettled mark's deadline run out before the request even left (outbound
        // send/settle.ts). Concurrent sends are bounded by the job concurrency, not here.
        ...(use.forSend ? { poolOptions: { connections: null } } : {}),
        logger: options.logger,
      });
      clients.set(key, cached);
    }
    return cached;
  };

  return {
    type: "luxsci",
    maxBatchSize: MAX_MESSAGES_PER_SEND,
    unknownOutcome: "sent-report",
    eventSources: ["api", "export"],
    secretColumns: ["luxsciSecretEnc", "luxsciPasswordEnc", "sftpPasswordEnc"],
    client,
    // Seed 000 outbound step 1: auth + GET /profile.
    async testConnectivity(channel): Promise<ConnectivityResult> {
      const started = performance.now();
      const ms = () => Math.round(performance.now() - started);
      try {
        const profile = await client(channel).getProfile();
        return { ok: true, ms: ms(), account: profile.account ?? null, uid: profile.uid ?? null };
      } catch (error) {
        return { ok: false, ms: ms(), error: (error as Error).message };
      }
    },
    async close(): Promise<void> {
      await Promise.all([...clients.values()].map((cached) => cached.close()));
      clients.clear();
    },
  };
}
