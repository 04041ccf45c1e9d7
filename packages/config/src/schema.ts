import { z } from "zod";

// The whole environment of luxrelay, in one place (docs/architecture.md "Code style" 6: config
// parsed once). Every variable says what it expects, so a bad value fails start-up with its name
// and the reason. Defaults are chosen so that `npm run demo` and `npm test` work on a fresh machine
// with local Redis and PostgreSQL; production (NODE_ENV=production) must set the secrets
// explicitly.

export const WORKER_ROLES = ["send", "reports", "housekeeping", "realtime"] as const;
export type TWorkerRole = (typeof WORKER_ROLES)[number];

export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;

// Only for development and tests: lets the demo run with no set-up. Refused in production.
export const DEV_SECRET_KEY = "ZGV2LW9ubHkta2V5LWRvLW5vdC11c2UtaW4tcHJvZCE=";
export const DEV_DASHBOARD_PASSWORD = "luxrelay-dev";

const postgresUrl = z
  .string({ error: "expected a PostgreSQL URL such as postgresql://user@host:5432/db" })
  .refine((value) => /^postgres(ql)?:\/\/[^/]+\/[^/?]+/.test(value), {
    error: "expected a PostgreSQL URL such as postgresql://user@host:5432/db",
  });

const redisUrl = z
  .string({ error: "expected a Redis URL such as redis://127.0.0.1:6379" })
  .refine((value) => /^rediss?:\/\/[^/]+/.test(value), {
    error: "expected a Redis URL such as redis://127.0.0.1:6379",
  });

const httpUrl = z.string().refine((value) => /^https?:\/\/[^/]+/.test(value), {
  error: "expected an http(s) URL",
});

function intInRange(min: number, max: number, fallback: number) {
  return z.coerce
    .number({ error: `expected a whole number from ${min} to ${max}` })
    .int({ error: `expected a whole number from ${min} to ${max}` })
    .min(min, { error: `expected a whole number from ${min} to ${max}` })
    .max(max, { error: `expected a whole number from ${min} to ${max}` })
    .default(fallback);
}

const bool = (fallback: boolean) =>
  z.stringbool({ error: "expected true or false (also 1/0, yes/no, on/off)" }).default(fallback);

/** A 32-byte AES-256 key, as 64 hex characters or base64. */
const secretKey = z.string().refine((value) => decodeSecretKey(value) !== null, {
  error: "expected 32 random bytes as 64 hex characters or base64 (openssl rand -base64 32)",
});

export function decodeSecretKey(value: string): Buffer | null {
  if (/^[0-9a-fA-F]{64}$/.test(value)) return Buffer.from(value, "hex");
  if (/^[A-Za-z0-9+/]{43}=?$/.test(value)) {
    const key = Buffer.from(value, "base64");
    return key.length === 32 ? key : null;
  }
  return null;
}

const workerRoles = z
  .string()
  .transform((value) =>
    value
      .split(",")
      .map((role) => role.trim())
      .filter(Boolean),
  )
  .pipe(
    z
      .array(
        z.enum(WORKER_ROLES, {
          error: `expected a comma-separated subset of ${WORKER_ROLES.join(",")}`,
        }),
      )
      .min(1, { error: `expected at least one of ${WORKER_ROLES.join(",")}` }),
  );

const audienceTables = z
  .string()
  .transform((value) =>
    value
      .split(",")
      .map((name) => name.trim())
      .filter(Boolean),
  )
  .pipe(
    z.array(
      z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*(\.([A-Za-z_][A-Za-z0-9_]*|\*))?$/, {
        error: "expected comma-separated table, schema.table or schema.* names",
      }),
    ),
  );

export const ZEnv = z.object({
  NODE_ENV: z
    .enum(["development", "test", "production"], {
      error: "expected development, test or production",
    })
    .default("development"),
  DATABASE_URL: postgresUrl.default("postgresql://postgres@127.0.0.1:5432/luxrelay"),
  REDIS_URL: redisUrl.default("redis://127.0.0.1:6379"),
  QUEUE_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_{}-]{1,64}$/, {
      error: "expected 1-64 letters, digits, _ - or {} (hash tags for Redis Cluster), no ':'",
    })
    .default("luxrelay"),
  SECRET_KEY: secretKey.optional(),
  /** Keys SECRET_KEY replaced, still accepted to decrypt until `npm run secrets -- rotate`. */
  SECRET_KEY_PREVIOUS: z
    .string()
    .transform((value) =>
      value
        .split(",")
        .map((key) => key.trim())
        .filter(Boolean),
    )
    .pipe(z.array(secretKey, { error: "expected comma-separated keys like SECRET_KEY's" }))
    .optional(),
  LOG_LEVEL: z
    .enum(LOG_LEVELS, { error: `expected one of ${LOG_LEVELS.join(", ")}` })
    .default("info"),
  HOST: z.string().min(1).default("127.0.0.1"),
  PRODUCER_PORT: intInRange(1, 65535, 3000),
  DASHBOARD_PORT: intInRange(1, 65535, 3001),
  DASHBOARD_USER: z.string().min(1, { error: "expected a user name" }).default("admin"),
  DASHBOARD_PASSWORD: z
    .string()
    .min(12, { error: "expected a password of at least 12 characters" })
    .optional(),
  DASHBOARD_READ_ONLY: bool(true),
  WORKER_QUEUES: workerRoles.default([...WORKER_ROLES]),
  WORKER_CONCURRENCY_SEND: intInRange(1, 1000, 8),
  WORKER_CONCURRENCY_REPORTS: intInRange(1, 100, 2),
  WORKER_CONCURRENCY_HOUSEKEEPING: intInRange(1, 100, 1),
  /** Realtime jobs one worker holds at once: they wait in the micro-batcher, not on CPU. */
  WORKER_CONCURRENCY_REALTIME: intInRange(1, 20_000, 2_000),
  /** The micro-batcher sends after this long with fewer than REALTIME_MAX_BATCH waiting. */
  REALTIME_FLUSH_MS: intInRange(0, 60_000, 100),
  /** The micro-batcher sends as soon as this many are waiting (LuxSci's maximum is 1000). */
  REALTIME_MAX_BATCH: intInRange(1, 1000, 1000),
  /** Cap on send jobs running at once across all workers (BullMQ global concurrency). */
  SEND_GLOBAL_CONCURRENCY: intInRange(1, 10_000, 64),
  SHUTDOWN_TIMEOUT_MS: intInRange(0, 600_000, 30_000),
  /** How long a worker holds a job's lock; a dead worker's job is taken over after it lapses. */
  WORKER_LOCK_MS: intInRange(1_000, 3_600_000, 60_000),
  /** How often workers look for jobs whose lock lapsed (stalled jobs). */
  WORKER_STALLED_INTERVAL_MS: intInRange(500, 3_600_000, 30_000),
  /**
   * How many times a job may be taken over after its lock lapsed before it fails. Safe above 1:
   * a batch or realtime job that ran before is reconciled against LuxSci's sent report.
   */
  WORKER_MAX_STALLED: intInRange(0, 100, 5),
  LUXSCI_API_URL: httpUrl.default("https://rest.luxsci.com/perl/api/v2"),
  /** Lets a channel's apiUrl be http:// (the simulator, tests); LuxSci itself is https only. */
  LUXSCI_ALLOW_HTTP: bool(false),
  LUXSCI_RETRIES: intInRange(0, 100, 10),
  LUXSCI_RETRY_BASE_MS: intInRange(1, 60_000, 1000),
  LUXSCI_TIMEOUT_MS: intInRange(100, 600_000, 30_000),
  LUXSCI_BATCH_SIZE: intInRange(1, 1000, 1000),
  LUXSCI_MAX_JOBS_WAIT_MS: intInRange(0, 3_600_000, 60_000),
  /**
   * The longest LuxSci may take, after a call ends (answered, timed out or cut), to show what
   * that call did in its reports. A send whose outcome is unknown is not sent again until this
   * long has passed on LuxSci's clock and its sent report has been read (docs/reliability.md).
   */
  LUXSCI_REPORT_LAG_MS: intInRange(0, 86_400_000, 300_000),
  SYNC_INTERVAL_SECONDS: intInRange(10, 86_400, 300),
  /** Each sync re-reads this far before its watermark (late rows; re-reads add nothing). */
  SYNC_OVERLAP_SECONDS: intInRange(0, 86_400, 900),
  /**
   * Every SYNC_RESCAN_INTERVAL_SECONDS a channel's sync re-reads SYNC_RESCAN_WINDOW_SECONDS
   * before its watermarks instead of the overlap: rows LuxSci adds later than the overlap.
   */
  SYNC_RESCAN_INTERVAL_SECONDS: intInRange(60, 30 * 86_400, 21_600),
  SYNC_RESCAN_WINDOW_SECONDS: intInRange(0, 30 * 86_400, 172_800),
  /** Between two looks at LuxSci's /jobs while an export runs. */
  EXPORT_POLL_MS: intInRange(100, 600_000, 5_000),
  /** LuxSci's max_jobs: exports running at once per account (the exports queue's cap). */
  LUXSCI_MAX_EXPORT_JOBS: intInRange(1, 100, 2),
  /** How often the housekeeping role re-adds jobs PostgreSQL says are missing from Redis. */
  RECONCILE_INTERVAL_MS: intInRange(1_000, 86_400_000, 60_000),
  /**
   * PostgreSQL connections one process may open in all (its pools share this budget), so N
   * processes need N x DATABASE_POOL_MAX of the server's max_connections.
   */
  DATABASE_POOL_MAX: intInRange(2, 1000, 10),
  /** Waiting longer than this for a connection (server down, pool exhausted) is an error. */
  DATABASE_CONNECT_TIMEOUT_MS: intInRange(100, 600_000, 10_000),
  /** No statement runs longer (a 1M-row COPY takes ~10 s); idle transactions end after it too. */
  DATABASE_STATEMENT_TIMEOUT_MS: intInRange(1_000, 86_400_000, 300_000),
  STATE_DIR: z.string().min(1).default("var/state"),
  STATE_FILE_RETENTION_DAYS: intInRange(1, 365, 7),
  /** Largest audience upload (POST /audiences), enforced on the stream: over it, a 413. */
  AUDIENCE_MAX_BYTES: intInRange(1024, 2 ** 40, 2 * 1024 ** 3),
  /** Longest audience record (CSV record, NDJSON line, table row); longer is a row problem. */
  AUDIENCE_MAX_RECORD_BYTES: intInRange(256, 256 * 1024 ** 2, 1024 ** 2),
  /** Uploaded audiences older than this are deleted (unless an execution has yet to plan one). */
  AUDIENCE_RETENTION_DAYS: intInRange(1, 3650, 30),
  /** Tables audiences may be read from: table, schema.table or schema.*, comma-separated. */
  AUDIENCE_TABLES: audienceTables.default([]),
});

export type TEnv = z.infer<typeof ZEnv>;
