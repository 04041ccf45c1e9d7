import { tmpdir } from "node:os";
import { createPrismaClient } from "@luxrelay/db";
import type { LuxSciClient, ReportKind, ReportPage, ReportQuery } from "@luxrelay/luxsci";
import type { SyncDeps, SyncSettings } from "./context.ts";
import type { InboundDeps } from "./import/types.ts";

// `@luxrelay/inbound/testing`: an API-mode sync against a stand-in LuxSci, for the tests and
// the import bench (not used by the apps).

/** What the stand-in LuxSci serves. */
export interface StandInLuxSci {
  iterateReport(kind: ReportKind, query?: ReportQuery): AsyncIterable<ReportPage>;
  /** LuxSci's time, as its replies' Date header tells it; default the host's clock. */
  serverNow?(): Date | undefined;
  /** Sync settings to change from the stand-in's (no overlap, no report lag). */
  settings?: Partial<SyncSettings>;
}

/**
 * Runs `fn` with SyncDeps whose LuxSci client serves `standIn`'s pages (or `iterateReport`'s)
 * and an empty suppression list: only what syncChannelByApi calls. API mode queues nothing and
 * decrypts nothing, so the queues and the secret key are blanks; Prisma is a client of its own
 * on `databaseUrl`, disconnected when `fn` ends.
 */
export async function withStandInApiSync<T>(
  deps: InboundDeps,
  databaseUrl: string,
  standIn: StandInLuxSci | ((kind: ReportKind) => AsyncIterable<ReportPage>),
  fn: (syncDeps: SyncDeps) => Promise<T>,
): Promise<T> {
  const luxsci: StandInLuxSci =
    typeof standIn === "function" ? { iterateReport: standIn } : standIn;
  const client = {
    iterateReport: (kind: ReportKind, query?: ReportQuery) => luxsci.iterateReport(kind, query),
    serverNow: () => (luxsci.serverNow ? luxsci.serverNow() : new Date()),
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
      luxsci: { client: () => client } as unknown as SyncDeps["luxsci"],
      secretKey: Buffer.alloc(32),
      settings: {
        stateDir: tmpdir(),
        fileRetentionDays: 7,
        maxJobsWaitMs: 0,
        exportPollMs: 0,
        overlapMs: 0,
        reportLagMs: 0,
        rescanIntervalMs: 21_600_000,
        rescanWindowMs: 172_800_000,
        sftpTimeoutMs: 30_000,
        intervalSeconds: 300,
        ...luxsci.settings,
      },
    });
  } finally {
    await prisma.$disconnect();
  }
}
