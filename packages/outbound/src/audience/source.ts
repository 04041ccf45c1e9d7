import { isUtf8 } from "node:buffer";
import { createReadStream } from "node:fs";
import { copyField, quoteIdent } from "@luxrelay/db";
import type pg from "pg";
import { to as copyTo } from "pg-copy-streams";
import { z } from "zod";
import { OutboundInputError } from "../errors.ts";
import { readCsvRecords } from "./csv.ts";
import { readLines } from "./lines.ts";

// Where an execution's recipients come from (docs/architecture.md "Outbound" 3): an uploaded CSV or
// NDJSON file under the state folder, or a table already in PostgreSQL. Every source streams, so a
// million rows never sit in memory, and yields rows numbered as the user counts them (CSV: the
// header is line 1, the first contact row 2; NDJSON and tables: from 1). A row that can't be
// read (issue 14: stray quotes, NUL, bytes that aren't UTF-8, over-long records) comes out as
// a problem naming its row and field, and the rows after it are read as usual.

export const ZAudience = z.discriminatedUnion("type", [
  z.object({ type: z.literal("file"), path: z.string().min(1), format: z.enum(["csv", "ndjson"]) }),
  z.object({
    type: z.literal("table"),
    name: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$/, {
      error: "expected a table name such as contacts or crm.contacts",
    }),
  }),
]);
export type TAudience = z.infer<typeof ZAudience>;

export type AudienceValue = string | number | boolean | null | AudienceValue[] | object;

export interface AudienceRow {
  row: number;
  attributes: Record<string, AudienceValue>;
  /** Set when the row itself can't be read (bad JSON, wrong column count). */
  problem?: { field: string; message: string };
}

/** What a reader holds to: the longest record (CSV record, NDJSON line, table row) it reads. */
export interface AudienceLimits {
  maxRecordBytes: number;
}

const CHUNK_BYTES = 1 << 16;

function problemRow(row: number, field: string, message: string): AudienceRow {
  return { row, attributes: {}, problem: { field, message } };
}

async function* readCsv(path: string, limits: AudienceLimits): AsyncGenerator<AudienceRow> {
  // Row numbers count the header as row 1, as a spreadsheet shows them; a bad record is a row.
  const records = readCsvRecords(
    createReadStream(path, { highWaterMark: CHUNK_BYTES }),
    limits.maxRecordBytes,
  );
  let header: string[] | null = null;
  let row = 1;
  for await (const record of records) {
    if (!header) {
      if (record.problem) {
        throw new OutboundInputError("audience", `the header line: ${record.problem.message}`);
      }
      header = record.fields.map((name) => name.trim());
      continue;
    }
    row++;
    const { fields, problem } = record;
    if (problem) {
      const { column } = problem;
      const field = column === null ? "row" : header[column] || `column ${column + 1}`;
      yield problemRow(row, field, problem.message);
      continue;
    }
    const attributes: Record<string, AudienceValue> = {};
    const width = Math.min(header.length, fields.length);
    for (let i = 0; i < width; i++) attributes[header[i] as string] = fields[i] as string;
    if (fields.length !== header.length) {
      yield {
        row,
        attributes,
        problem: {
          field: "row",
          message: `${fields.length} fields where the header has ${header.length}`,
        },
      };
    } else {
      yield { row, attributes };
    }
  }
}

/** A lone UTF-16 surrogate: valid in a JS string, refused by PostgreSQL's jsonb. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * The top-level key whose key or value (at any depth) holds a string that fails `bad`. Walked
 * with a stack, not recursion: JSON.parse takes nesting deeper than a call stack does.
 */
function fieldWhere(
  attributes: Record<string, AudienceValue>,
  bad: (text: string) => boolean,
): string | null {
  for (const [key, value] of Object.entries(attributes)) {
    if (bad(key)) return key;
    const stack: unknown[] = [value];
    while (stack.length > 0) {
      const item = stack.pop();
      if (typeof item === "string") {
        if (bad(item)) return key;
      } else if (item !== null && typeof item === "object") {
        for (const [inner, next] of Object.entries(item)) {
          if (bad(inner)) return key;
          stack.push(next);
        }
      }
    }
  }
  return null;
}

/**
 * Text PostgreSQL can't store (recipients' slot data is jsonb): bytes that are not UTF-8, NUL,
 * lone surrogates. Looked for only when the line's bytes or escapes say it might be there.
 */
function unstorableText(
  attributes: Record<string, AudienceValue>,
  text: string,
  bytes: Buffer,
): { field: string; message: string } | null {
  if (!isUtf8(bytes)) {
    return {
      field: fieldWhere(attributes, (value) => value.includes("\uFFFD")) ?? "row",
      message: "holds bytes that are not UTF-8 (save the file as UTF-8)",
    };
  }
  if (text.includes("\\u0000")) {
    const field = fieldWhere(attributes, (value) => value.includes("\0"));
    if (field !== null) return { field, message: "contains a NUL character" };
  }
  if (/\\u[dD][89a-fA-F]/.test(text)) {
    const field = fieldWhere(attributes, (value) => LONE_SURROGATE.test(value));
    if (field !== null) return { field, message: "holds half of a surrogate pair (not Unicode)" };
  }
  return null;
}

async function* readNdjson(path: string, limits: AudienceLimits): AsyncGenerator<AudienceRow> {
  const lines = readLines(
    createReadStream(path, { highWaterMark: CHUNK_BYTES }),
    limits.maxRecordBytes,
  );
  for await (const { line: row, bytes, length } of lines) {
    if (bytes === null) {
      yield problemRow(row, "row", `longer than ${limits.maxRecordBytes} bytes (${length})`);
      continue;
    }
    const text = bytes.toString("utf8");
    if (text.trim() === "") continue;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      yield problemRow(row, "row", `not JSON: ${(error as Error).message}`);
      continue;
    }
    if (value === null || typeof value !== "object" || Array.isArray(value)) {
      yield problemRow(row, "row", "expected a JSON object");
      continue;
    }
    const attributes = value as Record<string, AudienceValue>;
    const unstorable = unstorableText(attributes, text, bytes);
    if (unstorable) {
      yield problemRow(row, unstorable.field, unstorable.message);
      continue;
    }
    yield { row, attributes };
  }
}

async function* readTable(
  pool: pg.Pool,
  name: string,
  limits: AudienceLimits,
): AsyncGenerator<AudienceRow> {
  const client = await pool.connect();
  try {
    // COPY ... TO STDOUT streams rows without a cursor; one JSON object per line.
    const stream = client.query(
      copyTo(`COPY (SELECT row_to_json(t) FROM ${quoteIdent(name)} t) TO STDOUT`),
    );
    for await (const { line: row, bytes, length } of readLines(stream, limits.maxRecordBytes)) {
      if (bytes === null) {
        yield problemRow(row, "row", `longer than ${limits.maxRecordBytes} bytes (${length})`);
        continue;
      }
      let attributes: Record<string, AudienceValue>;
      try {
        attributes = JSON.parse(copyField(bytes.toString("utf8")) ?? "{}");
      } catch (error) {
        yield problemRow(row, "row", `unreadable row: ${(error as Error).message}`);
        continue;
      }
      yield { row, attributes };
    }
  } finally {
    client.release();
  }
}

export function readAudience(
  audience: TAudience,
  pool: pg.Pool,
  limits: AudienceLimits,
): AsyncGenerator<AudienceRow> {
  if (audience.type === "table") return readTable(pool, audience.name, limits);
  return audience.format === "csv"
    ? readCsv(audience.path, limits)
    : readNdjson(audience.path, limits);
}
