import { createHash, randomBytes } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { loadConfig } from "@luxrelay/config";
import pg from "pg";
import { MIGRATIONS_DIR } from "./paths.ts";

// Test isolation for PostgreSQL: every test file gets a database of its own, cloned in
// ~100 ms from a template that the global setup migrated once. Names carry their creation
// time so the next run can sweep what a killed run left behind.

const TEST_DB_PREFIX = "lr_t_";
const TEMPLATE_PREFIX = "lr_tpl_";
const STALE_AFTER_MS = 60 * 60 * 1000;

/** The server-level URL (database "postgres") derived from DATABASE_URL. */
export function adminUrl(databaseUrl = loadConfig().databaseUrl): string {
  return withDatabase(databaseUrl, "postgres");
}

export function withDatabase(databaseUrl: string, database: string): string {
  const url = new URL(databaseUrl);
  url.pathname = `/${database}`;
  return url.toString();
}

export async function withAdminClient<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: adminUrl() });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** Name of the template database for the current migrations: changes when they change. */
export function templateDatabaseName(): string {
  const hash = createHash("sha256");
  for (const dir of readdirSync(MIGRATIONS_DIR).sort()) {
    if (dir.endsWith(".toml") || dir.endsWith(".prisma")) continue;
    hash.update(dir);
    hash.update(readFileSync(join(MIGRATIONS_DIR, dir, "migration.sql")));
  }
  return `${TEMPLATE_PREFIX}${hash.digest("hex").slice(0, 16)}`;
}

export interface TestDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

/**
 * A new database for one test file: migrated (cloned from the template) or empty.
 * Call drop() in afterAll.
 */
export async function createTestDatabase(
  options: { migrated?: boolean } = {},
): Promise<TestDatabase> {
  const migrated = options.migrated ?? true;
  const name = `${TEST_DB_PREFIX}${Date.now().toString(36)}_${randomBytes(4).toString("hex")}`;
  await withAdminClient((client) =>
    client.query(
      migrated
        ? `CREATE DATABASE "${name}" TEMPLATE "${templateDatabaseName()}"`
        : `CREATE DATABASE "${name}"`,
    ),
  );
  return {
    name,
    url: withDatabase(loadConfig().databaseUrl, name),
    drop: () => dropDatabase(name),
  };
}

export async function dropDatabase(name: string): Promise<void> {
  await withAdminClient((client) => client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
}

/** Drops test databases older than an hour and templates of other migration sets. */
export async function sweepStaleDatabases(keepTemplate: string): Promise<void> {
  const { rows } = await withAdminClient((client) =>
    client.query<{ datname: string }>(
      "SELECT datname FROM pg_database WHERE datname LIKE 'lr\\_t\\_%' OR datname LIKE 'lr\\_tpl\\_%'",
    ),
  );
  for (const { datname } of rows) {
    if (datname === keepTemplate) continue;
    if (datname.startsWith(TEST_DB_PREFIX)) {
      const created = Number.parseInt(datname.slice(TEST_DB_PREFIX.length).split("_")[0] ?? "", 36);
      if (!(Date.now() - created > STALE_AFTER_MS)) continue;
    }
    await dropDatabase(datname);
  }
}
