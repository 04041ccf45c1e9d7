import { type Config, loadConfig } from "@luxrelay/config";
import { encryptChannelSecret, newChannelId } from "@luxrelay/db";
import { createLogger } from "@luxrelay/logger";
import { LuxSciClient, type ReportKind } from "@luxrelay/luxsci";
import type { SimAccount, Simulator } from "@luxrelay/luxsci-sim";
import {
  createTestDatabase,
  createTestQueues,
  type TestDatabase,
  type TestQueues,
} from "@luxrelay/testkit";
import type { SyncDeps, SyncSettings } from "../src/context.ts";
import { createSyncRuntime, type SyncRuntime } from "../src/runtime.ts";

// The sync's dependencies as the worker builds them (createSyncRuntime from the config), on a
// database and queue prefix of the test file's own, and the rows a channel needs to sync: the
// channel (on a simulator or any LuxSci URL), an execution and its tracking row.

export const ACCOUNT: SimAccount = {
  user: "acme",
  pass: "acme-pass",
  token: "tok-acme",
  secret: "acme-api-secret-0123456789",
};

export interface SyncFixture {
  db: TestDatabase;
  queues: TestQueues;
  config: Config;
  runtime: SyncRuntime;
  deps: SyncDeps;
  /** The deps with some settings changed. */
  withSettings(settings: Partial<SyncSettings>): SyncDeps;
  close(): Promise<void>;
}

export async function startSyncFixture(env: Record<string, string> = {}): Promise<SyncFixture> {
  const db = await createTestDatabase({ migrated: true });
  const queues = createTestQueues();
  const config = loadConfig({
    // biome-ignore lint/style/noProcessEnv: like the test files, the machine's settings first
    ...process.env,
    NODE_ENV: "test",
    DATABASE_URL: db.url,
    QUEUE_PREFIX: queues.prefix,
    LUXSCI_RETRY_BASE_MS: "20",
    LUXSCI_TIMEOUT_MS: "5000",
    LOG_LEVEL: "silent",
    ...env,
  });
  const runtime = createSyncRuntime(config, createLogger({ name: "sync-test", level: "silent" }));
  const deps = runtime.deps;
  return {
    db,
    queues,
    config,
    runtime,
    deps,
    withSettings: (settings) => ({ ...deps, settings: { ...deps.settings, ...settings } }),
    async close() {
      await runtime.close();
      await queues.cleanup();
      await db.drop();
    },
  };
}

export interface ChannelFixture {
  channelId: string;
  executionId: number;
  offerId: number;
  /** A chid of this channel's execution for contact `contactId`. */
  chid(contactId: string): string;
}

/**
 * A channel on `apiUrl` (ACCOUNT's credentials), an execution on it and its tracking row.
 * `sftpPassword` in `channel` is plaintext, encrypted here for the new row.
 */
export async function createChannel(
  fx: SyncFixture,
  apiUrl: string,
  channel: Record<string, unknown> & { sftpPassword?: string } = {},
): Promise<ChannelFixture> {
  const { prisma } = fx.deps;
  const { sftpPassword, ...columns } = channel;
  const id = newChannelId();
  const key = fx.config.secretKey;
  const created = await prisma.channel.create({
    data: {
      id,
      name: `acme-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`,
      apiUrl,
      luxsciUser: ACCOUNT.user,
      luxsciToken: ACCOUNT.token,
      luxsciSecretEnc: encryptChannelSecret("luxsciSecretEnc", ACCOUNT.secret, id, key),
      ...(sftpPassword
        ? { sftpPasswordEnc: encryptChannelSecret("sftpPasswordEnc", sftpPassword, id, key) }
        : {}),
      fromAddress: "news@acme.example",
      ...columns,
    },
  });
  const campaign = await prisma.campaign.create({ data: { name: `c-${created.id}` } });
  const offer = await prisma.offer.create({ data: { campaignId: campaign.id, name: "June" } });
  const execution = await prisma.execution.create({
    data: { offerId: offer.id, channelId: created.id, audience: {} },
  });
  await prisma.tracking.create({
    data: {
      trackingId: `${execution.id}_${offer.id}_${created.id}`,
      executionId: execution.id,
      offerId: offer.id,
      channelId: created.id,
    },
  });
  return {
    channelId: created.id,
    executionId: execution.id,
    offerId: offer.id,
    chid: (contactId) => `${execution.id}_${offer.id}_${created.id}_${contactId}`,
  };
}

/** Every row of each report the simulator holds for the channel (identical rows included). */
export async function simulatorRows(
  sim: Simulator,
  channelId: string,
): Promise<Record<ReportKind, number>> {
  const client = new LuxSciClient({
    baseUrl: sim.url,
    user: ACCOUNT.user,
    token: ACCOUNT.token,
    secret: ACCOUNT.secret,
  });
  try {
    const totals = {} as Record<ReportKind, number>;
    for (const kind of ["sent", "delivery", "opens", "clicks", "fbl"] as const) {
      let rows = 0;
      for await (const page of client.iterateReport(kind, {
        afterDate: new Date(0),
        header1: { name: "chid", operator: "like", value: `_${channelId}` },
      })) {
        rows += page.rows.length;
      }
      totals[kind] = rows;
    }
    return totals;
  } finally {
    await client.close();
  }
}

const TYPES_OF: Record<ReportKind, string> = {
  sent: "'sent'",
  delivery: "'delivered', 'hard_fail', 'failed', 'spam'",
  opens: "'opened'",
  clicks: "'clicked'",
  fbl: "'complaint'",
};

/** Stored events of the channel per report kind (the delivery report's unsubscribes aside). */
export async function storedRows(
  fx: SyncFixture,
  channelId: string,
): Promise<Record<ReportKind, number>> {
  const totals = {} as Record<ReportKind, number>;
  for (const [kind, types] of Object.entries(TYPES_OF) as [ReportKind, string][]) {
    const { rows } = await fx.deps.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM email_event WHERE channel_id = $1 AND type IN (${types})`,
      [channelId],
    );
    totals[kind] = rows[0]?.n ?? 0;
  }
  return totals;
}
