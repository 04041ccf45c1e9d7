import { tmpdir } from "node:os";
import { createPrismaClient } from "@luxrelay/db";
import type { LuxSciClient, ReportKind, ReportPage } from "@luxrelay/luxsci";
import type { SyncDeps } from "./context.ts";
import type { InboundDeps } from "./import/types.ts";

// `@luxrelay/inbound/testing`: an API-mode sync against a stand-in LuxSci, for the tests and
// the import bench (not used by the apps).

/**
 * Runs `fn` with SyncDeps whose LuxSci client serves `iterateReport`'s pages and an empty
 * suppression list: only what syncChannelByApi calls. API mode queues nothing and decrypts
 * nothing, so the queues and the secret key are blanks; Prisma is a client of its own on
 * `databaseUrl`, disconnected when `fn` ends.
 */
export async function withStandInApiSync<T>(
  deps: InboundDeps,
  databaseUrl: string,
  iterateReport: (kind: ReportKind) => AsyncIterable<ReportPage>,
  fn: (syncDeps: SyncDeps) => Promise<T>,
): Promise<T> {
  const client = {
    iterateReport,
    async getSuppressions() {
      return [];
    },
  } as unknown as LuxSciClient;
  const prisma = createPrismaClient({ databaseUrl, maxConnections: 2 });
  try {
    return await fn({
      ...deps,
      prisma,
      queues: {} as SyncDeps["queues"],
      luxsci: () => client,
      secretKey: Buffer.alloc(32),
      settings: {
        stateDir: tmpdir(),
        fileRetentionDays: 7,
        maxJobsWaitMs: 0,
        exportPollMs: 0,
        overlapMs: 0,
        intervalSeconds: 300,
      },
    });
  } finally {
    await prisma.$disconnect();
  }
}
