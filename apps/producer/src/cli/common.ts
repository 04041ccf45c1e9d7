import { readFile } from "node:fs/promises";
import { loadCliEnv } from "@luxrelay/config";
import type { Command } from "commander";
import { ApiClient } from "./client.ts";

// Options every command takes, and small parsers for option values.

/** commander 5's Command instance type (its typings name two different "Command"s). */
export type CliCommand = InstanceType<typeof Command>;

export interface CommonOptions {
  api: string;
  json?: boolean;
}

/** A usage mistake found after commander parsed the line (exit 2, as commander's own are). */
export class UsageError extends Error {
  override readonly name = "UsageError";
}

export function withCommon(command: CliCommand): CliCommand {
  return command
    .option(
      "--api <url>",
      "producer API base URL (default: $LUXRELAY_API, else http://127.0.0.1:3000)",
      loadCliEnv().apiUrl,
    )
    .option("--json", "print the raw JSON reply");
}

/**
 * A client for the API; the key comes from LUXRELAY_API_KEY only, never from an option, so
 * it stays out of shell history and `ps`.
 */
export function clientOf(options: CommonOptions): ApiClient {
  return new ApiClient(options.api, loadCliEnv().apiKey);
}

export function positiveInt(value: string, name: string): number {
  const number = Number(value);
  if (!Number.isInteger(number) || number <= 0) {
    throw new UsageError(`${name}: expected a positive whole number (got "${value}")`);
  }
  return number;
}

export function wholeNumber(name: string) {
  return (value: string): number => {
    const number = Number(value);
    if (!Number.isInteger(number) || number < 0) {
      throw new UsageError(`${name}: expected a whole number (got "${value}")`);
    }
    return number;
  };
}

export function yesNo(name: string) {
  return (value: string): boolean => {
    if (/^(yes|y|true|1|on)$/i.test(value)) return true;
    if (/^(no|n|false|0|off)$/i.test(value)) return false;
    throw new UsageError(`${name}: expected yes or no (got "${value}")`);
  };
}

/** Repeatable option: every occurrence is kept. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** A file's text; "-" reads stdin (so secrets and HTML need not be on the command line). */
export async function readText(path: string): Promise<string> {
  if (path !== "-") return readFile(path, "utf8");
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

export async function readJson(path: string, name: string): Promise<Record<string, unknown>> {
  const text = await readText(path);
  try {
    const value: unknown = JSON.parse(text);
    if (value && typeof value === "object" && !Array.isArray(value)) {
      return value as Record<string, unknown>;
    }
  } catch {
    // reported below with the option's name
  }
  throw new UsageError(`${name}: expected a JSON object in ${path}`);
}

/** Drops undefined values so a PATCH only names what the user gave. */
export function defined<T extends Record<string, unknown>>(object: T): Partial<T> {
  return Object.fromEntries(
    Object.entries(object).filter(([, value]) => value !== undefined),
  ) as Partial<T>;
}
