import type { PrismaClient } from "@luxrelay/db";

// What the catalog (channels, campaigns, offers, variants, audiences) needs: the database,
// the key that encrypts channel secrets, and where uploaded audiences are written.

export interface CatalogDeps {
  prisma: PrismaClient;
  /** SECRET_KEY: AES-256-GCM key of every channel secret at rest. */
  secretKey: Buffer;
  /** SECRET_KEY_PREVIOUS: still decrypt (the SFTP part of a channel's test). */
  previousSecretKeys?: readonly Buffer[];
  /** LUXSCI_ALLOW_HTTP: a channel's apiUrl may be http:// (the simulator, tests). */
  allowHttpApiUrl?: boolean;
  /** STATE_DIR, shared with the workers that read audiences back. */
  stateDir: string;
  /** LUXSCI_API_URL: a new channel's API URL when the request names none. */
  defaultApiUrl: string;
  /** SYNC_INTERVAL_SECONDS: a new channel's sync interval unless it names one. */
  defaultSyncIntervalSeconds?: number;
  /** LUXSCI_RETRIES: a new channel's API call retries unless it names them. */
  defaultApiRetries?: number;
}
