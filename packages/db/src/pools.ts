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
  /** Told when a pooled connection fails (the server restarted); nothing is thrown. */
  logger?: PoolLogger;
}

/** What the pools need of a logger (pino's, in the apps). */
export interface PoolLogger {
  warn(fields: Record<string, unknown>, message: string): void;
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

/**
 * A pg pool whose connections can fail without taking the process down. node-postgres emits a
 * connection's failure (the server restarted, a socket write failed mid-COPY) as an 'error'
 * event on the pool while the connection is idle and on the client while it is checked out;
 * an 'error' event no one listens to ends the process. The statement that was running fails
 * on its own, so here the event is only told; the pool drops the connection.
 */
export function createResilientPool(
  config: pg.PoolConfig,
  onError: (error: Error) => void = () => undefined,
): pg.Pool {
  const pool = new pg.Pool(config);
  pool.on("error", onError);
  pool.on("connect", (client) => client.on("error", onError));
  return pool;
}

export function createDatabasePools(settings: DatabaseSettings): DatabasePools {
  const prismaMax = Math.max(1, Math.round(settings.poolMax * PRISMA_SHARE));
  const onError = (error: Error) =>
    settings.logger?.warn({ err: error.message }, "a pooled PostgreSQL connection failed; dropped");
  const pool = createResilientPool(
    poolConfig(settings, Math.max(1, settings.poolMax - prismaMax)),
    onError,
  );
  const prismaPool = createResilientPool(poolConfig(settings, prismaMax), onError);
  const prisma = new PrismaClient({ adapter: new PrismaPg(prismaPool) });
  return {
    prisma,
    pool,
    async close() {
      // Prisma leaves a pool it was given open: it is ended once Prisma let go of it.
      await Promise.allSettled([pool.end(), prisma.$disconnect().then(() => prismaPool.end())]);
    },
  };
}

/**
 * The process's pools from the config (DATABASE_URL, DATABASE_POOL_MAX and its timeouts): what
 * an app builds once and hands to every runtime it starts.
 */
export function createProcessPools(
  config: {
    databaseUrl: string;
    database: Pick<DatabaseSettings, "poolMax" | "connectTimeoutMs" | "statementTimeoutMs">;
  },
  logger?: PoolLogger,
): DatabasePools {
  return createDatabasePools({ databaseUrl: config.databaseUrl, ...config.database, logger });
}
