import { deployMigrations } from "@luxrelay/db";
import {
  adminUrl,
  sweepStaleDatabases,
  templateDatabaseName,
  withAdminClient,
  withDatabase,
} from "./database.ts";
import { MIGRATIONS_DIR, SCHEMA_PATH } from "./paths.ts";

// Runs once per vitest run (and once per project when turbo runs packages separately, hence
// the advisory lock): builds the migrated template database that test files clone.
const TEMPLATE_LOCK_KEY = 727_001;

export default async function setup(): Promise<void> {
  const template = templateDatabaseName();
  await withAdminClient(async (client) => {
    await client.query("SELECT pg_advisory_lock($1)", [TEMPLATE_LOCK_KEY]);
    try {
      const { rowCount } = await client.query("SELECT 1 FROM pg_database WHERE datname = $1", [
        template,
      ]);
      if (rowCount === 0) {
        const building = `${template}_building`;
        await client.query(`DROP DATABASE IF EXISTS "${building}" WITH (FORCE)`);
        await client.query(`CREATE DATABASE "${building}"`);
        await deployMigrations({
          databaseUrl: withDatabase(adminUrl(), building),
          migrationsDir: MIGRATIONS_DIR,
          schemaPath: SCHEMA_PATH,
        });
        // Renamed only once complete, so a killed setup never leaves a half-migrated template.
        await client.query(`ALTER DATABASE "${building}" RENAME TO "${template}"`);
      }
      await sweepStaleDatabases(template);
    } finally {
      await client.query("SELECT pg_advisory_unlock($1)", [TEMPLATE_LOCK_KEY]);
    }
  });
}
