import { type ParseArgsConfig, parseArgs } from "node:util";
import { type Config, getConfigOrExit } from "@luxrelay/config";
import pg from "pg";

// What the operator scripts (`npm run -s apikey`, `npm run -s secrets`) share: they talk to
// PostgreSQL directly, print usage mistakes as `error: ...` with exit 2 and other failures
// with exit 1, and never a stack trace for a mistake the operator can fix.

export function fail(message: string, code = 2): never {
  process.stderr.write(`error: ${message}\n`);
  process.exit(code);
}

/** Parses argv; --help prints `help` and exits 0, no command prints it and exits 2. */
export function parseCommand<T extends NonNullable<ParseArgsConfig["options"]>>(
  help: string,
  options: T,
) {
  let parsed: ReturnType<typeof parseArgs<{ allowPositionals: true; options: T }>>;
  try {
    parsed = parseArgs({ allowPositionals: true, options });
  } catch (error) {
    fail((error as Error).message);
  }
  const command = parsed.positionals[0];
  const values = parsed.values as Record<string, unknown>;
  if (values.help || !command) {
    process.stdout.write(help);
    process.exit(values.help ? 0 : 2);
  }
  return { command, values: parsed.values };
}

/** The configuration and a connected client of DATABASE_URL; exit 1 when it doesn't answer. */
export async function connectDatabase(): Promise<{ config: Config; db: pg.Client }> {
  const config = getConfigOrExit();
  const db = new pg.Client({ connectionString: config.databaseUrl });
  try {
    await db.connect();
  } catch (error) {
    fail(`cannot connect to PostgreSQL (DATABASE_URL): ${(error as Error).message}`, 1);
  }
  return { config, db };
}
