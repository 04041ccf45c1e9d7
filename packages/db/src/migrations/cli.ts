import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { ConfigError, loadConfig, redactUrl } from "@luxrelay/config";
import { checkDrift, createMigration, deployMigrations, migrationStatus } from "./index.ts";

// npm run db:migrate | db:migration:create -- <name> | db:migrate:status | db:migrate:check
// Exit codes: 0 fine; 1 drift (check) or pending/failed migrations (status); 2 an error.

const HELP = `luxrelay migrate: Prisma migrations without Prisma's native engine

usage: npm run migrate -w @luxrelay/db -- <command> [options]

commands:
  deploy          apply pending migrations to DATABASE_URL (recorded in _prisma_migrations)
  create <name>   write prisma/migrations/<timestamp>_<name>/migration.sql from the schema change
  status          list applied, pending and failed migrations; exit 1 if any pending or failed
  check           drift check: exit 1, printing the missing SQL, if schema.prisma has changes
                  that no migration holds

options:
  --schema <path>       schema file (default: prisma/schema.prisma)
  --migrations <path>   migrations folder (default: prisma/migrations)
  -h, --help            this help
`;

const REPO_ROOT = fileURLToPath(new URL("../../../../", import.meta.url));

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      schema: { type: "string", default: `${REPO_ROOT}prisma/schema.prisma` },
      migrations: { type: "string", default: `${REPO_ROOT}prisma/migrations` },
      help: { type: "boolean", short: "h" },
    },
  });
  const [command, name] = positionals;
  if (values.help || !command) {
    process.stdout.write(HELP);
    return values.help ? 0 : 2;
  }
  const paths = { schemaPath: values.schema, migrationsDir: values.migrations };
  switch (command) {
    case "create": {
      if (!name) throw new Error("create needs a name: npm run db:migration:create -- <name>");
      const result = await createMigration({ ...paths, name });
      console.log(
        result.created ? `created ${result.path}` : "no schema changes: nothing to create",
      );
      return 0;
    }
    case "check": {
      const report = await checkDrift(paths);
      if (!report.drift) {
        console.log("no drift: every change in schema.prisma is in a migration");
        return 0;
      }
      console.log(`drift: ${report.reason}`);
      if (report.sql) console.log(`\nA migration would need:\n\n${report.sql}`);
      console.log("\nRun: npm run db:migration:create -- <name>");
      return 1;
    }
    case "deploy": {
      const { databaseUrl } = loadConfig();
      const applied = await deployMigrations({ ...paths, databaseUrl });
      console.log(
        applied.length === 0
          ? `${redactUrl(databaseUrl)}: up to date, no migration to apply`
          : `${redactUrl(databaseUrl)}: applied ${applied.length} migration(s)\n  ${applied.join("\n  ")}`,
      );
      return 0;
    }
    case "status": {
      const { databaseUrl } = loadConfig();
      const status = await migrationStatus({ migrationsDir: paths.migrationsDir, databaseUrl });
      console.log(`${redactUrl(databaseUrl)}`);
      for (const [label, names] of Object.entries(status)) {
        console.log(`  ${label}: ${names.length === 0 ? "none" : names.join(", ")}`);
      }
      return status.pending.length + status.failed.length > 0 ? 1 : 0;
    }
    default:
      throw new Error(`unknown command "${command}" (deploy, create, status, check; --help)`);
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    const message =
      error instanceof ConfigError || error instanceof Error ? error.message : String(error);
    process.stderr.write(`migrate: ${redactUrl(message)}\n`);
    process.exitCode = 2;
  },
);
