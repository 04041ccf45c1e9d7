import { Command, CommanderError } from "commander";
import { ApiError } from "./client.ts";
import { registerCatalogCommands } from "./commands/catalog.ts";
import { registerChannelCommands } from "./commands/channels.ts";
import { registerExecutionCommands } from "./commands/executions.ts";
import { registerSyncCommands } from "./commands/sync.ts";
import { type CliCommand, UsageError } from "./common.ts";

// `luxrelay`: the producer's HTTP API from a terminal. Every command takes --api and --json.

export function buildProgram(): CliCommand {
  const program = new Command("luxrelay");
  // Set before any subcommand exists: commander 5 copies these settings into each one. Its
  // parse errors (unknown option or command, missing argument) throw, for runCli's exit 2.
  program.storeOptionsAsProperties(false).passCommandToAction(false).exitOverride();
  program
    .version("0.1.0")
    .description(
      "luxrelay: send email through LuxSci API v2 (talks to the producer's HTTP API, --api)",
    );
  registerChannelCommands(program);
  registerCatalogCommands(program);
  registerExecutionCommands(program);
  registerSyncCommands(program);
  return program;
}

/**
 * Runs the CLI; returns the exit code: 0 (help and --version too), 1 for API errors, 2 for
 * usage mistakes (commander's parse errors, which it has already printed, and ours).
 */
export async function runCli(argv: string[]): Promise<number> {
  const program = buildProgram();
  if (argv.length <= 2) {
    program.outputHelp();
    return 0;
  }
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === "number" ? process.exitCode : 0;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2;
    if (error instanceof ApiError || error instanceof UsageError) {
      process.stderr.write(`error: ${error.message}\n`);
      return error instanceof UsageError ? 2 : 1;
    }
    throw error;
  }
}
