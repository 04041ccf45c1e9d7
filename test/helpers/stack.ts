import { type Config, loadConfig } from "@luxrelay/config";
import { encryptChannelSecret, newChannelId } from "@luxrelay/db";
import { createLogger, type Logger } from "@luxrelay/logger";
import {
  type SimAccount,
  type Simulator,
  type SimulatorOptions,
  startSimulator,
} from "@luxrelay/luxsci-sim";
import { createOutboundRuntime, type OutboundDeps, type OutboundRuntime } from "@luxrelay/outbound";
import {
  createTestDatabase,
  createTestQueues,
  type TestDatabase,
  type TestQueues,
  type TestSshd,
} from "@luxrelay/testkit";

// An outbound stack for one test file: its own database and queue prefix, a simulator over
// real HTTP, and the services wired as the apps wire them. Workers are started by the test
// (in-process with startWorkers, or as real processes with workerEnv()).

export const ACCOUNT: SimAccount = {
  user: "acme",
  pass: "acme-pass",
  token: "tok-acme",
  secret: "acme-api-secret-0123456789",
};

export interface Stack {
  db: TestDatabase;
  queues: TestQueues;
  sim: Simulator;
  config: Config;
  logger: Logger;
  runtime: OutboundRuntime;
  deps: OutboundDeps;
  /** Environment for a worker process on this stack. */
  env: Record<string, string>;
  close(): Promise<void>;
}

export async function startStack(
  options: {
    simSeed?: number;
    env?: Record<string, string>;
    keepMergedMessages?: number;
    sim?: Partial<SimulatorOptions>;
    /** A database of the test's own (chaos tests: on a server they restart). */
    database?: TestDatabase;
    /** A Redis of the test's own (chaos tests: one they restart). */
    redisUrl?: string;
  } = {},
): Promise<Stack> {
  const db = options.database ?? (await createTestDatabase({ migrated: true }));
  const queues = createTestQueues(options.redisUrl);
  const sim = await startSimulator({
    seed: options.simSeed ?? 1,
    accounts: [ACCOUNT],
    eventDelayScale: 0.001,
    keepMergedMessages: options.keepMergedMessages ?? 1000,
    ...options.sim,
  });
  const env: Record<string, string> = {
    NODE_ENV: "test",
    DATABASE_URL: db.url,
    ...(options.redisUrl ? { REDIS_URL: options.redisUrl } : {}),
    QUEUE_PREFIX: queues.prefix,
    LUXSCI_RETRY_BASE_MS: "20",
    LUXSCI_TIMEOUT_MS: "5000",
    // The simulator shows sends in its sent report at once unless a test sets a lag.
    LUXSCI_REPORT_LAG_MS: "1500",
    LOG_LEVEL: "warn",
    WORKER_QUEUES: "send",
    WORKER_LOCK_MS: "3000",
    WORKER_STALLED_INTERVAL_MS: "1000",
    SHUTDOWN_TIMEOUT_MS: "5000",
    ...options.env,
  };
  const config = loadConfig({ ...process.env, ...env });
  const logger = createLogger({ name: "e2e", level: config.logLevel });
  const runtime = createOutboundRuntime(config, logger);
  return {
    db,
    queues,
    sim,
    config,
    logger,
    runtime,
    deps: runtime.deps,
    env,
    async close() {
      await runtime.close();
      await sim.close();
      await queues.cleanup();
      await db.drop();
    },
  };
}

export interface OfferFixture {
  channelId: string;
  offerId: number;
  variantKeys: string[];
}

/**
 * A channel on the simulator's account and an offer with the given variants. `luxsciSecret`
 * and `sftpPassword` in `options.channel` are plaintext, encrypted here for the new row.
 */
export async function createOfferFixture(
  stack: Stack,
  options: {
    variants: { key: string; subject: string; html: string; text: string }[];
    variantAttribute?: string;
    seeds?: string[];
    channel?: Record<string, unknown>;
  },
): Promise<OfferFixture> {
  const { prisma } = stack.deps;
  const key = stack.config.secretKey;
  const { luxsciSecret, sftpPassword, ...columns } = options.channel ?? {};
  const id = newChannelId();
  const channel = await prisma.channel.create({
    data: {
      id,
      name: `acme-${Date.now()}-${Math.random().toString(36).slice(2, 6)}`,
      apiUrl: stack.sim.url,
      luxsciUser: ACCOUNT.user,
      luxsciToken: ACCOUNT.token,
      luxsciSecretEnc: encryptChannelSecret(
        "luxsciSecretEnc",
        typeof luxsciSecret === "string" ? luxsciSecret : ACCOUNT.secret,
        id,
        key,
      ),
      ...(typeof sftpPassword === "string"
        ? { sftpPasswordEnc: encryptChannelSecret("sftpPasswordEnc", sftpPassword, id, key) }
        : {}),
      fromAddress: "news@acme.example",
      fromName: "Acme News",
      customHeaders: [["offername", "June Sales"]],
      ...columns,
    },
  });
  const campaign = await prisma.campaign.create({
    data: { name: `June ${channel.id.slice(0, 6)}` },
  });
  const offer = await prisma.offer.create({
    data: {
      campaignId: campaign.id,
      name: "June Sales",
      variantAttribute: options.variantAttribute ?? null,
      seeds: options.seeds ?? [],
    },
  });
  for (const [position, variant] of options.variants.entries()) {
    await prisma.contentVariant.create({ data: { offerId: offer.id, position, ...variant } });
  }
  return {
    channelId: channel.id,
    offerId: offer.id,
    variantKeys: options.variants.map((v) => v.key),
  };
}

/** Polls until the execution has ended (or the timeout passes); returns its status. */
export async function waitForExecution(
  stack: Stack,
  executionId: number,
  timeoutMs = 60_000,
  ended: readonly string[] = ["completed", "partially_failed", "failed", "cancelled"],
): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const execution = await stack.deps.prisma.execution.findUniqueOrThrow({
      where: { id: executionId },
    });
    if (ended.includes(execution.status) && execution.completedAt) return execution.status;
    if (Date.now() > deadline) {
      throw new Error(`execution ${executionId} still ${execution.status} after ${timeoutMs} ms`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Polls until at least `atLeast` of the execution's batches are in `state`; returns how many. */
export async function waitForBatches(
  stack: Stack,
  executionId: number,
  state: "sending" | "sent",
  atLeast: number,
  timeoutMs = 60_000,
): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const count = await stack.deps.prisma.batch.count({ where: { executionId, state } });
    if (count >= atLeast || Date.now() > deadline) return count;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * A channel's settings for export mode, its reports delivered to `sshd` (a test's own), whose
 * host key is pinned; the password in plaintext, for createOfferFixture to encrypt.
 */
export function exportModeChannel(_stack: Stack, sshd: TestSshd) {
  return {
    syncMode: "export" as const,
    sftpHost: sshd.host,
    sftpPort: sshd.port,
    sftpUser: sshd.username,
    sftpPassword: sshd.password,
    sftpDirectory: ".",
    sftpHostKey: sshd.hostKey,
  };
}
