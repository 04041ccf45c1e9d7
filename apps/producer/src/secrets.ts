import { rotateSecrets } from "@luxrelay/db";
import { connectDatabase, fail, parseCommand } from "./admin-script.ts";

// `npm run -s secrets -- rotate`: re-encrypts every stored secret under SECRET_KEY, in
// PostgreSQL directly (packages/db secrets-rotate.ts). Run with the new key in SECRET_KEY and
// the old one(s) in SECRET_KEY_PREVIOUS, as every process runs during the change.

const HELP = `npm run -s secrets -- <command>

Channel secrets at rest (AES-256-GCM, each value bound to its table, column and row).

  rotate   re-encrypt every secret not yet under SECRET_KEY (values under a key of
           SECRET_KEY_PREVIOUS, or in the older v1 format); one transaction per row; safe to
           run again (a value already under SECRET_KEY is left alone). Exit 1 if a value
           could not be decrypted with any key.
  --json   print the counts as JSON
  --help   this text

Changing SECRET_KEY: 1. give every process SECRET_KEY=<new> SECRET_KEY_PREVIOUS=<old>
(restart them); 2. npm run -s secrets -- rotate; 3. drop SECRET_KEY_PREVIOUS and restart.
`;

const { command, values } = parseCommand(HELP, {
  json: { type: "boolean", default: false },
  help: { type: "boolean", default: false },
});
if (command !== "rotate") fail(`unknown command "${command}" (rotate; --help)`);

const { config, db } = await connectDatabase();
if (config.usingDevSecretKey) {
  process.stderr.write("warning: SECRET_KEY is not set: rotating to the development key\n");
}
try {
  const result = await rotateSecrets(db, {
    current: config.secretKey,
    previous: config.previousSecretKeys,
  });
  if (values.json) {
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  } else {
    process.stdout.write(
      `secrets under key ${result.keyId}: ${result.rotated} re-encrypted (${result.rows} rows), ${result.current} already current, ${result.failed.length} failed\n`,
    );
    for (const failed of result.failed) {
      process.stdout.write(
        `  ${failed.table}.${failed.column} of ${failed.rowId}: ${failed.reason}\n`,
      );
    }
  }
  if (result.failed.length > 0) process.exitCode = 1;
} finally {
  await db.end();
}
