import { resolve } from "node:path";
import {
  DEV_DASHBOARD_PASSWORD,
  DEV_SECRET_KEY,
  decodeSecretKey,
  type TEnv,
  type TWorkerRole,
  ZEnv,
} from "./schema.ts";

export { type CliEnv, DEFAULT_API_URL, loadCliEnv } from "./cli.ts";
export { type CliSecrets, loadCliSecrets } from "./cli-secrets.ts";
export type { TWorkerRole } from "./schema.ts";
export { DEV_SECRET_KEY, decodeSecretKey, LOG_LEVELS, WORKER_ROLES } from "./schema.ts";

/** Thrown when the environment is missing or has a bad variable; lists every problem. */
export class ConfigError extends Error {
  constructor(readonly problems: { variable: string; message: string }[]) {
    super(
      `Invalid configuration:\n${problems.map((p) => `  - ${p.variable}: ${p.message}`).join("\n")}`,
    );
    this.name = "ConfigError";
  }
}

export interface Config {
  nodeEnv: TEnv["NODE_ENV"];
  databaseUrl: string;
  /** Connection budget and timeouts of every PostgreSQL pool in the process. */
  database: { poolMax: number; connectTimeoutMs: number; statementTimeoutMs: number };
  redisUrl: string;
  queuePrefix: string;
  /** 32-byte key for AES-256-GCM encryption of channel secrets at rest. */
  secretKey: Buffer;
  /** True when the development key is in use (never in production). */
  usingDevSecretKey: boolean;
  /** SECRET_KEY_PREVIOUS: keys that still decrypt (a rotation under way), never encrypt. */
  previousSecretKeys: Buffer[];
  logLevel: TEnv["LOG_LEVEL"];
  host: string;
  producerPort: number;
  dashboard: { port: number; user: string; password: string; readOnly: boolean };
  worker: {
    roles: TWorkerRole[];
    concurrency: Record<TWorkerRole, number>;
    sendGlobalConcurrency: number;
    shutdownTimeoutMs: number;
    lockMs: number;
    stalledIntervalMs: number;
    maxStalled: number;
  };
  luxsci: {
    apiUrl: string;
    /** LUXSCI_ALLOW_HTTP: channels may have an http:// apiUrl (simulator, tests). */
    allowHttp: boolean;
    retries: number;
    retryBaseMs: number;
    timeoutMs: number;
    batchSize: number;
    maxJobsWaitMs: number;
    /** LUXSCI_REPORT_LAG_MS: how long LuxSci's reports may take to show a call's effect. */
    reportLagMs: number;
  };
  reconcileIntervalMs: number;
  realtime: { flushMs: number; maxBatch: number };
  sync: {
    intervalSeconds: number;
    overlapSeconds: number;
    rescanIntervalSeconds: number;
    rescanWindowSeconds: number;
    exportPollMs: number;
    maxExportJobs: number;
    stateDir: string;
    fileRetentionDays: number;
  };
  /** Uploaded and table audiences: size caps, retention, the tables allowed (issue 14). */
  audience: {
    maxBytes: number;
    maxRecordBytes: number;
    retentionDays: number;
    tables: string[];
  };
}

/** The checkout's root (this file is packages/config/src/index.ts): relative paths start here. */
const REPO_ROOT = resolve(import.meta.dirname, "../../..");

// Never echo these values back: they are secrets.
const SECRET_VARIABLES = new Set(["SECRET_KEY", "SECRET_KEY_PREVIOUS", "DASHBOARD_PASSWORD"]);

/**
 * Parses the environment (process.env by default) into a typed Config, or throws ConfigError
 * naming each bad variable and what was expected. Pure: call it once at start-up and pass the
 * result down; getConfig() memoises it for apps.
 */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  // An empty variable means "not set", as in most twelve-factor tools.
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== ""));
  const parsed = ZEnv.safeParse(cleaned);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => {
        const variable = String(issue.path[0] ?? "environment");
        return { variable, message: describe(issue.message, variable, cleaned[variable]) };
      }),
    );
  }
  const e = parsed.data;
  const problems: { variable: string; message: string }[] = [];
  if (e.NODE_ENV === "production" && !e.SECRET_KEY) {
    problems.push({
      variable: "SECRET_KEY",
      message: "required in production: 32 random bytes as base64 (openssl rand -base64 32)",
    });
  }
  if (e.NODE_ENV === "production" && !e.DASHBOARD_PASSWORD) {
    problems.push({
      variable: "DASHBOARD_PASSWORD",
      message: "required in production: a password of at least 12 characters",
    });
  }
  if (!e.LUXSCI_ALLOW_HTTP && !e.LUXSCI_API_URL.startsWith("https://")) {
    problems.push({
      variable: "LUXSCI_API_URL",
      message: "expected an https URL (http only with LUXSCI_ALLOW_HTTP=true)",
    });
  }
  if (problems.length > 0) throw new ConfigError(problems);

  const secretKey = decodeSecretKey(e.SECRET_KEY ?? DEV_SECRET_KEY);
  if (!secretKey) throw new ConfigError([{ variable: "SECRET_KEY", message: "unreadable key" }]);
  return {
    nodeEnv: e.NODE_ENV,
    databaseUrl: e.DATABASE_URL,
    database: {
      poolMax: e.DATABASE_POOL_MAX,
      connectTimeoutMs: e.DATABASE_CONNECT_TIMEOUT_MS,
      statementTimeoutMs: e.DATABASE_STATEMENT_TIMEOUT_MS,
    },
    redisUrl: e.REDIS_URL,
    queuePrefix: e.QUEUE_PREFIX,
    secretKey,
    usingDevSecretKey: !e.SECRET_KEY,
    previousSecretKeys: (e.SECRET_KEY_PREVIOUS ?? [])
      .map((value) => decodeSecretKey(value))
      .filter((key): key is Buffer => key !== null && !key.equals(secretKey)),
    logLevel: e.LOG_LEVEL,
    host: e.HOST,
    producerPort: e.PRODUCER_PORT,
    dashboard: {
      port: e.DASHBOARD_PORT,
      user: e.DASHBOARD_USER,
      password: e.DASHBOARD_PASSWORD ?? DEV_DASHBOARD_PASSWORD,
      readOnly: e.DASHBOARD_READ_ONLY,
    },
    worker: {
      roles: e.WORKER_QUEUES,
      concurrency: {
        send: e.WORKER_CONCURRENCY_SEND,
        reports: e.WORKER_CONCURRENCY_REPORTS,
        housekeeping: e.WORKER_CONCURRENCY_HOUSEKEEPING,
        realtime: e.WORKER_CONCURRENCY_REALTIME,
      },
      sendGlobalConcurrency: e.SEND_GLOBAL_CONCURRENCY,
      shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
      lockMs: e.WORKER_LOCK_MS,
      stalledIntervalMs: e.WORKER_STALLED_INTERVAL_MS,
      maxStalled: e.WORKER_MAX_STALLED,
    },
    luxsci: {
      apiUrl: e.LUXSCI_API_URL,
      allowHttp: e.LUXSCI_ALLOW_HTTP,
      retries: e.LUXSCI_RETRIES,
      retryBaseMs: e.LUXSCI_RETRY_BASE_MS,
      timeoutMs: e.LUXSCI_TIMEOUT_MS,
      batchSize: e.LUXSCI_BATCH_SIZE,
      maxJobsWaitMs: e.LUXSCI_MAX_JOBS_WAIT_MS,
      reportLagMs: e.LUXSCI_REPORT_LAG_MS,
    },
    reconcileIntervalMs: e.RECONCILE_INTERVAL_MS,
    realtime: { flushMs: e.REALTIME_FLUSH_MS, maxBatch: e.REALTIME_MAX_BATCH },
    sync: {
      intervalSeconds: e.SYNC_INTERVAL_SECONDS,
      overlapSeconds: e.SYNC_OVERLAP_SECONDS,
      rescanIntervalSeconds: e.SYNC_RESCAN_INTERVAL_SECONDS,
      rescanWindowSeconds: e.SYNC_RESCAN_WINDOW_SECONDS,
      exportPollMs: e.EXPORT_POLL_MS,
      maxExportJobs: e.LUXSCI_MAX_EXPORT_JOBS,
      // Relative to the checkout, not to each process's working directory: `npm run -w`
      // starts the producer and the workers in different folders, which must share this one.
      stateDir: resolve(REPO_ROOT, e.STATE_DIR),
      fileRetentionDays: e.STATE_FILE_RETENTION_DAYS,
    },
    audience: {
      maxBytes: e.AUDIENCE_MAX_BYTES,
      maxRecordBytes: e.AUDIENCE_MAX_RECORD_BYTES,
      retentionDays: e.AUDIENCE_RETENTION_DAYS,
      tables: e.AUDIENCE_TABLES,
    },
  };
}

let cached: Config | undefined;

/** The process's configuration, parsed on first use. */
export function getConfig(): Config {
  cached ??= loadConfig();
  return cached;
}

/** Replaces a URL's password with *** so it can be printed. */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@\s]*):[^@/\s]*@/i, "$1:***@");
}

function describe(message: string, variable: string, received: string | undefined): string {
  if (received === undefined || SECRET_VARIABLES.has(variable)) return message;
  const shown = redactUrl(received);
  return `${message} (got "${shown.length > 60 ? `${shown.slice(0, 57)}...` : shown}")`;
}

/**
 * For app entry points: the configuration, or a clear message on stderr and exit code 1.
 * A stack trace would bury the one line the operator needs.
 */
export function getConfigOrExit(): Config {
  try {
    return getConfig();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  }
}
