import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";
import { PrismaClient } from "./generated/prisma/client.ts";

// A process's PostgreSQL connections, in one budget (DATABASE_POOL_MAX): the Prisma client
// (catalog, API) and the pg pool (COPY and the hot-path SQL) share it, and every role of the
// process shares both, so N processes need N x DATABASE_POOL_MAX of max_connections. Every
// connection has a timeout to get it, and every statement (and every idle transaction) a
// limit, so a PostgreSQL that hangs fails jobs (which retry) instead of hanging them.

export interface DatabaseSettings {
  databaseUrl: string;
  /** Connections the process may hold in all. */
  poolMax: number;
  /** Waiting longer for a connection (server down, pool exhausted) is an error. */
  connectTimeoutMs: number;
  /** statement_timeout and idle_in_transaction_session_timeout of every connection. */
  statementTimeoutMs: number;
  /** application_name, shown in pg_stat_activity. */
  applicationName?: string;
  /** An idle pooled connection failed (the server restarted): told here, not thrown. */
  onIdleError?: (error: Error) => void;
}

export interface DatabasePools {
  prisma: PrismaClient;
  pool: pg.Pool;
  close(): Promise<void>;
}

/** The part of the budget Prisma gets; the hot paths (pg) get the rest. */
const PRISMA_SHARE = 0.3;

export function poolConfig(settings: DatabaseSettings, max: number): pg.PoolConfig {
  return {
    connectionString: settings.databaseUrl,
    max,
    connectionTimeoutMillis: settings.connectTimeoutMs,
    idleTimeoutMillis: 30_000,
    statement_timeout: settings.statementTimeoutMs,
    idle_in_transaction_session_timeout: settings.statementTimeoutMs,
    application_name: settings.applicationName ?? "luxrelay",
  };
}

export function createDatabasePools(settings: DatabaseSettings): DatabasePools {
  const prismaMax = Math.max(1, Math.round(settings.poolMax * PRISMA_SHARE));
  const pool = new pg.Pool(poolConfig(settings, Math.max(1, settings.poolMax - prismaMax)));
  // A failed idle connection (the server restarted) must not crash the process: the pool
  // drops it and opens another when asked.
  pool.on("error", (error) => settings.onIdleError?.(error));
  const prisma = new PrismaClient({ adapter: new PrismaPg(poolConfig(settings, prismaMax)) });
  return {
    prisma,
    pool,
    async close() {
      await Promise.allSettled([pool.end(), prisma.$disconnect()]);
    },
  };
}
