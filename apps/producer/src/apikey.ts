import {
  API_SCOPES,
  ApiKeyInputError,
  createApiKey,
  listApiKeys,
  revokeApiKey,
  type TApiScope,
} from "@luxrelay/db";
import { connectDatabase, fail, parseCommand } from "./admin-script.ts";

// `npm run -s apikey -- create|list|revoke`: API keys, managed in PostgreSQL directly (so the
// first key needs no key). `create` prints the new key alone on stdout, once: it is stored
// only as a scrypt hash and cannot be shown again.

const HELP = `npm run -s apikey -- <command> [options]

Manages the producer API's keys in PostgreSQL (DATABASE_URL).

  create --name NAME [--scope read|send|admin]
                 create a key and print it once on stdout (scope default: read)
                   read   GET routes: channels, campaigns, offers, executions, sync jobs
                   send   also uploads, executions and their actions, realtime sends,
                          offers and variants, mail-merge exports (recipients' data)
                   admin  also channels (create, change, test), sync, reconcile
  list           names, scopes, prefixes, created / last used / revoked
  revoke --name NAME
                 revoke a key (producers stop accepting it within 30 s)
  --help         this text

The CLI (luxrelay) reads the key from LUXRELAY_API_KEY and the API URL from LUXRELAY_API.
`;

const { command, values } = parseCommand(HELP, {
  name: { type: "string" },
  scope: { type: "string", default: "read" },
  json: { type: "boolean", default: false },
  help: { type: "boolean", default: false },
});
const { db } = await connectDatabase();

try {
  if (command === "create") {
    if (!values.name) fail("create: --name is required");
    const scope = values.scope as TApiScope;
    if (!API_SCOPES.includes(scope)) fail(`--scope: expected ${API_SCOPES.join(", ")}`);
    const { key, record } = await createApiKey(db, { name: values.name, scope });
    process.stdout.write(`${key}\n`);
    process.stderr.write(
      `created API key "${record.name}" (scope ${record.scope}). It is shown only now: keep it in a secret store; the CLI reads LUXRELAY_API_KEY.\n`,
    );
  } else if (command === "list") {
    const keys = await listApiKeys(db);
    if (values.json) process.stdout.write(`${JSON.stringify(keys, null, 2)}\n`);
    for (const key of values.json ? [] : keys) {
      const state = key.revokedAt ? `revoked ${key.revokedAt.toISOString()}` : "active";
      const used = key.lastUsedAt ? key.lastUsedAt.toISOString() : "never";
      process.stdout.write(
        `${key.name}\t${key.scope}\tlr_${key.prefix}_…\tcreated ${key.createdAt.toISOString()}\tlast used ${used}\t${state}\n`,
      );
    }
  } else if (command === "revoke") {
    if (!values.name) fail("revoke: --name is required");
    if (!(await revokeApiKey(db, values.name))) fail(`no active key named "${values.name}"`, 1);
    process.stderr.write(`revoked API key "${values.name}"\n`);
  } else {
    fail(`unknown command "${command}" (create, list, revoke; --help)`);
  }
} catch (error) {
  if (error instanceof ApiKeyInputError) fail(error.message);
  if ((error as { code?: string }).code === "42P01") {
    fail("the api_key table does not exist: run npm run db:migrate first", 1);
  }
  throw error;
} finally {
  await db.end();
}
