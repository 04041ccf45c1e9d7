import { type ChildProcess, spawn } from "node:child_process";
import { createWriteStream, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Config, loadConfig } from "@luxrelay/config";
import { encryptChannelSecret, newChannelId } from "@luxrelay/db";
import { createLogger } from "@luxrelay/logger";
import { createOutboundRuntime, type OutboundRuntime } from "@luxrelay/outbound";
import {
  createTestDatabase,
  createTestQueues,
  ensureTemplateDatabase,
  REPO_ROOT,
  type SimProcess,
  startSimulatorProcess,
  type TestDatabase,
  type TestQueues,
} from "@luxrelay/testkit";

// What the outbound benchmarks share: a fresh database and queue prefix, the simulator in its
// own process, the services wired in this process, an offer on a channel, worker processes.

export const BENCH_ACCOUNT = {
  user: "bench",
  pass: "p",
  token: "tok-bench",
  secret: "bench-secret",
};

export interface BenchStack {
  db: TestDatabase;
  queues: TestQueues;
  sim: SimProcess;
  config: Config;
  runtime: OutboundRuntime;
  /** Environment for worker processes on this stack. */
  env: Record<string, string>;
  close(): Promise<void>;
}

export async function startBenchStack(
  options: { simArgs?: string[]; env?: Record<string, string>; logLevel?: "warn" | "info" } = {},
): Promise<BenchStack> {
  await ensureTemplateDatabase();
  const db = await createTestDatabase();
  const queues = createTestQueues();
  // One seed for every run (the CLI would take a new one): the same events each time. Each run
  // has a fresh database, so repeated sendmail ids meet nothing stored.
  const sim = await startSimulatorProcess([
    "--seed",
    "1",
    "--accounts",
    JSON.stringify([BENCH_ACCOUNT]),
    ...(options.simArgs ?? []),
  ]);
  const env = {
    NODE_ENV: "test",
    DATABASE_URL: db.url,
    QUEUE_PREFIX: queues.prefix,
    LOG_LEVEL: "warn",
    ...options.env,
  };
  const config = loadConfig({ ...process.env, ...env });
  const runtime = createOutboundRuntime(
    config,
    createLogger({ name: "bench", level: options.logLevel ?? "warn" }),
  );
  return {
    db,
    queues,
    sim,
    config,
    runtime,
    env,
    async close() {
      await runtime.close();
      sim.stop();
      await queues.cleanup();
      await db.drop();
    },
  };
}

/** A channel on the simulator's bench account and an offer with the given variants. */
export async function createBenchOffer(
  stack: BenchStack,
  options: {
    variantAttribute?: string;
    variants: { key: string; subject: string; html: string; text: string }[];
    channel?: Record<string, unknown>;
  },
) {
  const { prisma } = stack.runtime.deps;
  const id = newChannelId();
  const channel = await prisma.channel.create({
    data: {
      id,
      name: "bench",
      apiUrl: stack.sim.url,
      luxsciUser: BENCH_ACCOUNT.user,
      luxsciToken: BENCH_ACCOUNT.token,
      luxsciSecretEnc: encryptChannelSecret(
        "luxsciSecretEnc",
        BENCH_ACCOUNT.secret,
        id,
        stack.config.secretKey,
      ),
      fromAddress: "bench@example.com",
      ...options.channel,
    },
  });
  const campaign = await prisma.campaign.create({ data: { name: "bench" } });
  const offer = await prisma.offer.create({
    data: {
      campaignId: campaign.id,
      name: "bench",
      variantAttribute: options.variantAttribute ?? null,
    },
  });
  for (const [position, variant] of options.variants.entries()) {
    await prisma.contentVariant.create({ data: { offerId: offer.id, position, ...variant } });
  }
  return { channel, offer };
}

/** Writes a CSV of `total` generated rows (streamed, so a million costs no memory). */
export async function writeCsv(
  header: string,
  total: number,
  line: (n: number) => string,
): Promise<string> {
  const path = join(mkdtempSync(join(tmpdir(), "lr-bench-")), "audience.csv");
  const out = createWriteStream(path);
  out.write(`${header}\n`);
  for (let n = 1; n <= total; n++) {
    if (!out.write(`${line(n)}\n`))
      await new Promise<void>((resolve) => out.once("drain", () => resolve()));
  }
  await new Promise<void>((resolve) => out.end(() => resolve()));
  return path;
}

/** A worker process (`apps/worker/src/main.ts`) on the stack, with extra environment. */
export function spawnBenchWorker(
  stack: BenchStack,
  env: Record<string, string> = {},
): ChildProcess {
  return spawn(process.execPath, ["--import", "tsx", join(REPO_ROOT, "apps/worker/src/main.ts")], {
    cwd: join(REPO_ROOT, "apps/worker"),
    env: { ...process.env, ...stack.env, ...env },
    stdio: ["ignore", "ignore", "inherit"],
  });
}
