import { appendFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { deployMigrations } from "@luxrelay/db";
import {
  MIGRATIONS_DIR,
  REPO_ROOT,
  SCHEMA_PATH,
  type TestDatabase,
  type TestPostgresCluster,
} from "@luxrelay/testkit";
import { expect } from "vitest";
import type { Stack } from "../helpers/stack.ts";

// What every chaos scenario checks and records (docs/reliability.md): the simulator's ledger
// against PostgreSQL, and the figures of the run, one JSON line per scenario in
// var/chaos/results.jsonl (npm run test:chaos prints them as a table at the end).

export const RESULTS_FILE = join(REPO_ROOT, "var", "chaos", "results.jsonl");

export interface ChaosFigures {
  scenario: string;
  /** What was done to the system: kills, restarts, fault rates, report lag. */
  injected: string;
  recipients: number;
  /** Recipients LuxSci accepted more than once (ledger). */
  duplicates: number;
  /** Recipients that should have been sent and were not. */
  lost: number;
  status: string;
  seconds: number;
  /** Batches that needed more than one claim (retries, takeovers). */
  retriedBatches: number;
  /** First claim to sent, for retried batches: median and longest (s). */
  retriedBatchSecondsP50?: number;
  retriedBatchSecondsMax?: number;
  /** Anything else worth a column (events stored, rows compared ...). */
  notes?: string;
}

export function recordFigures(figures: ChaosFigures): void {
  mkdirSync(join(REPO_ROOT, "var", "chaos"), { recursive: true });
  appendFileSync(RESULTS_FILE, `${JSON.stringify({ at: new Date().toISOString(), ...figures })}\n`);
}

/** A migrated database of the test's own on a test-owned PostgreSQL cluster. */
export async function ownDatabase(
  cluster: TestPostgresCluster,
  name: string,
): Promise<TestDatabase> {
  const url = await cluster.createDatabase(name);
  await deployMigrations({
    databaseUrl: url,
    migrationsDir: MIGRATIONS_DIR,
    schemaPath: SCHEMA_PATH,
  });
  return { name, url, drop: async () => undefined };
}

/**
 * The promise, checked: every planned recipient is in the ledger exactly once and sent in
 * PostgreSQL, the execution ended `completed`, and its interaction log's totals agree.
 * Returns the figures of the batches that needed more than one claim.
 */
export async function expectExactlyOnce(
  stack: Stack,
  executionId: number,
  expected: { recipients: number; ledgerBefore?: number },
): Promise<
  Pick<
    ChaosFigures,
    | "duplicates"
    | "lost"
    | "retriedBatches"
    | "retriedBatchSecondsP50"
    | "retriedBatchSecondsMax"
    | "status"
  >
> {
  const ledger = stack.sim.ledger();
  const accepted = ledger.total - (expected.ledgerBefore ?? 0);
  const execution = await stack.deps.prisma.execution.findUniqueOrThrow({
    where: { id: executionId },
  });
  const sent = await stack.deps.prisma.recipient.count({ where: { executionId, state: "sent" } });
  const log = await stack.deps.prisma.interactionLog.findFirst({
    where: { executionId, message: { startsWith: "execution " } },
    orderBy: { id: "desc" },
  });
  const retried = await stack.deps.pool.query<{ seconds: number }>(
    `SELECT extract(epoch FROM sent_at - sending_at)::float8 AS seconds FROM batch
     WHERE execution_id = $1 AND attempts > 1 AND sent_at IS NOT NULL ORDER BY 1`,
    [executionId],
  );
  const seconds = retried.rows.map((row) => row.seconds);
  const figures = {
    duplicates: ledger.duplicates,
    lost: Math.max(0, expected.recipients - accepted + ledger.duplicates),
    retriedBatches: seconds.length,
    retriedBatchSecondsP50: round(seconds[Math.floor(seconds.length / 2)] ?? 0),
    retriedBatchSecondsMax: round(seconds.at(-1) ?? 0),
    status: execution.status,
  };
  expect(ledger.duplicates).toBe(0);
  expect(accepted).toBe(expected.recipients);
  expect(sent).toBe(expected.recipients);
  expect(execution.status).toBe("completed");
  expect(log?.data).toMatchObject({
    batchesSucceeded: execution.batchesTotal,
    batchesFailed: 0,
    recipientsMerged: expected.recipients,
  });
  return figures;
}

const round = (n: number) => Math.round(n * 10) / 10;

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
