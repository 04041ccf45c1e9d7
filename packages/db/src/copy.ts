import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type pg from "pg";
import { from as copyFrom } from "pg-copy-streams";

// Bulk loads for the million-row paths (recipients at planning, events at import): COPY is
// an order of magnitude faster than INSERTs, and streaming keeps memory flat whatever the size.

export type CopyValue = string | number | bigint | boolean | Date | object | null | undefined;
export type CopyRow = readonly CopyValue[];

export interface CopyOptions {
  /** Table name, optionally schema-qualified; quoted for you. */
  table: string;
  /** Column names in the order of each row's values. */
  columns: readonly string[];
  rows: Iterable<CopyRow> | AsyncIterable<CopyRow>;
}

const CHUNK_CHARS = 256 * 1024;

/** Quotes an identifier, or a schema.table pair. */
export function quoteIdent(name: string): string {
  return name
    .split(".")
    .map((part) => `"${part.replaceAll('"', '""')}"`)
    .join(".");
}

// PostgreSQL COPY text format: tab-separated, \N for null, backslash escapes.
const NEEDS_ESCAPE = /[\\\n\r\t]/;
const ESCAPES = /[\\\n\r\t]/g;
const escapeChar = (ch: string) =>
  ch === "\\" ? "\\\\" : ch === "\n" ? "\\n" : ch === "\r" ? "\\r" : "\\t";

function encodeValue(value: CopyValue): string {
  if (value === null || value === undefined) return "\\N";
  let text: string;
  if (typeof value === "string") text = value;
  else if (typeof value === "number" || typeof value === "bigint") text = String(value);
  else if (typeof value === "boolean") text = value ? "t" : "f";
  else if (value instanceof Date) text = value.toISOString();
  else text = JSON.stringify(value);
  // Most values need no escape: testing first skips the replace's work and its copy.
  return NEEDS_ESCAPE.test(text) ? text.replace(ESCAPES, escapeChar) : text;
}

async function* encodeRows(
  rows: Iterable<CopyRow> | AsyncIterable<CopyRow>,
  width: number,
  counter: { rows: number },
): AsyncGenerator<string> {
  let chunk = "";
  for await (const row of rows) {
    if (row.length !== width) {
      throw new Error(`COPY row ${counter.rows + 1} has ${row.length} values, expected ${width}`);
    }
    let line = encodeValue(row[0]);
    for (let i = 1; i < width; i++) line += `\t${encodeValue(row[i])}`;
    chunk += `${line}\n`;
    counter.rows++;
    if (chunk.length >= CHUNK_CHARS) {
      yield chunk;
      chunk = "";
    }
  }
  if (chunk) yield chunk;
}

/** Streams rows into a table with COPY FROM STDIN; returns the number of rows written. */
export async function copyRows(client: pg.ClientBase, options: CopyOptions): Promise<number> {
  const columns = options.columns.map(quoteIdent).join(", ");
  const counter = { rows: 0 };
  await pipeline(
    Readable.from(encodeRows(options.rows, options.columns.length, counter)),
    client.query(copyFrom(`COPY ${quoteIdent(options.table)} (${columns}) FROM STDIN`)),
  );
  return counter.rows;
}

/**
 * COPY into a temporary table shaped like the target, then INSERT ... ON CONFLICT DO NOTHING:
 * a bulk load that can run twice (a retried import) without duplicating a row. Runs in one
 * transaction; returns rows offered and rows actually inserted.
 */
export async function copyRowsIgnoringConflicts(
  client: pg.ClientBase,
  options: CopyOptions,
): Promise<{ offered: number; inserted: number }> {
  const staging = `lr_copy_${process.pid}_${Date.now().toString(36)}`;
  const columns = options.columns.map(quoteIdent).join(", ");
  await client.query("BEGIN");
  try {
    await client.query(
      `CREATE TEMP TABLE ${quoteIdent(staging)} (LIKE ${quoteIdent(options.table)} INCLUDING DEFAULTS) ON COMMIT DROP`,
    );
    const offered = await copyRows(client, { ...options, table: staging });
    const result = await client.query(
      `INSERT INTO ${quoteIdent(options.table)} (${columns}) SELECT ${columns} FROM ${quoteIdent(staging)} ON CONFLICT DO NOTHING`,
    );
    await client.query("COMMIT");
    return { offered, inserted: result.rowCount ?? 0 };
  } catch (error) {
    await client.query("ROLLBACK");
    throw error;
  }
}
