import { runCli } from "./cli/program.ts";

// The `luxrelay` command (bin/luxrelay.js runs this file through tsx).
process.exitCode = await runCli(process.argv);
