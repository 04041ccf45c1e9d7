import { createHash } from "node:crypto";
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  createTestDatabase,
  MIGRATIONS_DIR,
  SCHEMA_PATH,
  type TestDatabase,
} from "@luxrelay/testkit";
import pg from "pg";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import {
  checkDrift,
  createMigration,
  deployMigrations,
  listLocalMigrations,
  migrationStatus,
} from "../src/index.ts";

const repo = { schemaPath: SCHEMA_PATH, migrationsDir: MIGRATIONS_DIR };
const databases: TestDatabase[] = [];
const tempDirs: string[] = [];

async function emptyDatabase(): Promise<TestDatabase> {
  const db = await createTestDatabase({ migrated: false });
  databases.push(db);
  return db;
}

async function query<T extends pg.QueryResultRow>(url: string, sql: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end();
  }
}

/** A copy of prisma/ to change freely: schema.prisma and migrations/. */
async function copyOfPrisma(): Promise<{ schemaPath: string; migrationsDir: string }> {
  const dir = await mkdtemp(join(tmpdir(), "lr-prisma-"));
  tempDirs.push(dir);
  await cp(MIGRATIONS_DIR, join(dir, "migrations"), { recursive: true });
  await cp(SCHEMA_PATH, join(dir, "schema.prisma"));
  return { schemaPath: join(dir, "schema.prisma"), migrationsDir: join(dir, "migrations") };
}

async function addColumnToChannel(schemaPath: string): Promise<void> {
  const schema = await readFile(schemaPath, "utf8");
  await writeFile(
    schemaPath,
    schema.replace("  clientId  ", '  webhookUrl String? @map("webhook_url")\n  clientId  '),
  );
}

afterEach(async () => {
  await Promise.all(tempDirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

afterAll(async () => {
  await Promise.all(databases.map((db) => db.drop()));
});

describe("offline migrations", () => {
  it("apply to an empty database, recorded as prisma migrate deploy records them", async () => {
    const db = await emptyDatabase();
    const before = await migrationStatus({ ...repo, databaseUrl: db.url });
    expect(before.pending).toEqual(listLocalMigrations(MIGRATIONS_DIR).map((m) => m.name));
    expect(before.applied).toEqual([]);

    const applied = await deployMigrations({ ...repo, databaseUrl: db.url });
    expect(applied.length).toBeGreaterThan(0);

    const tables = await query<{ tablename: string }>(
      db.url,
      "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename",
    );
    expect(tables.map((t) => t.tablename)).toEqual(
      expect.arrayContaining([
        "_prisma_migrations",
        "batch",
        "campaign",
        "channel",
        "content_variant",
        "email_event",
        "execution",
        "export_job",
        "interaction_log",
        "luxsci_template",
        "offer",
        "offer_history",
        "recipient",
        "suppression",
        "sync_watermark",
        "tracking",
      ]),
    );
    const recorded = await query<{
      migration_name: string;
      checksum: string;
      finished_at: Date | null;
    }>(
      db.url,
      "SELECT migration_name, checksum, finished_at FROM _prisma_migrations ORDER BY migration_name",
    );
    expect(recorded).toEqual(
      listLocalMigrations(MIGRATIONS_DIR).map((m) => ({
        migration_name: m.name,
        checksum: createHash("sha256").update(m.sql).digest("hex"),
        finished_at: expect.any(Date),
      })),
    );
    const after = await migrationStatus({ ...repo, databaseUrl: db.url });
    expect(after).toMatchObject({ pending: [], failed: [], unknown: [], modified: [] });
  });

  it("applying again is a no-op", async () => {
    const db = await emptyDatabase();
    await deployMigrations({ ...repo, databaseUrl: db.url });
    const rowsBefore = await query(db.url, "SELECT * FROM _prisma_migrations ORDER BY id");
    expect(await deployMigrations({ ...repo, databaseUrl: db.url })).toEqual([]);
    expect(await query(db.url, "SELECT * FROM _prisma_migrations ORDER BY id")).toEqual(rowsBefore);
  });

  it("two deploys at once both succeed and apply each migration once", async () => {
    const db = await emptyDatabase();
    const [a, b] = await Promise.all([
      deployMigrations({ ...repo, databaseUrl: db.url }),
      deployMigrations({ ...repo, databaseUrl: db.url }),
    ]);
    expect([...a, ...b].sort()).toEqual(listLocalMigrations(MIGRATIONS_DIR).map((m) => m.name));
    const count = await query<{ n: number }>(
      db.url,
      "SELECT count(*)::int AS n FROM _prisma_migrations",
    );
    expect(count[0]?.n).toBe(listLocalMigrations(MIGRATIONS_DIR).length);
  });

  it("the committed schema has no drift", async () => {
    expect(await checkDrift(repo)).toEqual({ drift: false, sql: "" });
  });

  it("a schema change without a migration is drift, with the SQL it needs", async () => {
    const copy = await copyOfPrisma();
    await addColumnToChannel(copy.schemaPath);
    const report = await checkDrift(copy);
    expect(report.drift).toBe(true);
    expect(report.sql).toMatch(/ALTER TABLE "channel" ADD COLUMN\s+"webhook_url" TEXT/);
  });

  it("a missing snapshot is drift too", async () => {
    const copy = await copyOfPrisma();
    await rm(join(copy.migrationsDir, "schema.snapshot.prisma"));
    expect(await checkDrift(copy)).toMatchObject({
      drift: true,
      reason: expect.stringMatching(/snapshot/),
    });
  });

  it("create writes a migration that deploys on top, and drift is gone", async () => {
    const copy = await copyOfPrisma();
    await addColumnToChannel(copy.schemaPath);
    const created = await createMigration({
      ...copy,
      name: "Add webhook URL!",
      now: new Date("2030-01-02T03:04:05Z"),
    });
    expect(created).toMatchObject({ created: true, name: "20300102030405_add_webhook_url" });
    expect(await checkDrift(copy)).toEqual({ drift: false, sql: "" });
    expect(await createMigration({ ...copy, name: "again" })).toEqual({ created: false });

    const db = await emptyDatabase();
    const applied = await deployMigrations({ ...copy, databaseUrl: db.url });
    expect(applied.at(-1)).toBe("20300102030405_add_webhook_url");
    const columns = await query<{ column_name: string }>(
      db.url,
      "SELECT column_name FROM information_schema.columns WHERE table_name = 'channel' AND column_name = 'webhook_url'",
    );
    expect(columns).toHaveLength(1);
  });

  it("a migration runs as one script: a function body with semicolons applies; a failure names PostgreSQL's error and applies nothing", async () => {
    const copy = await copyOfPrisma();
    const write = async (name: string, sql: string) => {
      await mkdir(join(copy.migrationsDir, name));
      await writeFile(join(copy.migrationsDir, name, "migration.sql"), sql);
    };
    await write(
      "20300101000000_function",
      `CREATE FUNCTION lr_answer() RETURNS int LANGUAGE plpgsql AS $$
BEGIN
  PERFORM 1;
  RETURN 42;
END;
$$;`,
    );
    const db = await emptyDatabase();
    await deployMigrations({ ...copy, databaseUrl: db.url });
    expect(await query<{ answer: number }>(db.url, "SELECT lr_answer() AS answer")).toEqual([
      { answer: 42 },
    ]);

    await write(
      "20300102000000_broken",
      "CREATE TABLE lr_half (id int);\nALTER TABLE lr_missing ADD COLUMN x int;",
    );
    await expect(deployMigrations({ ...copy, databaseUrl: db.url })).rejects.toThrow(/lr_missing/);
    const half = await query(db.url, "SELECT 1 FROM pg_class WHERE relname = 'lr_half'");
    expect(half).toEqual([]);
  });

  it("status reports migrations the database has but this checkout lacks", async () => {
    const copy = await copyOfPrisma();
    await addColumnToChannel(copy.schemaPath);
    await createMigration({ ...copy, name: "later" });
    const db = await emptyDatabase();
    await deployMigrations({ ...copy, databaseUrl: db.url });
    const status = await migrationStatus({ ...repo, databaseUrl: db.url });
    expect(status.unknown).toEqual([expect.stringMatching(/_later$/)]);
  });
});
