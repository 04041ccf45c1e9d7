import { createReadStream } from "node:fs";
import { createInterface } from "node:readline";
import { quoteIdent } from "@luxrelay/db";
import { parse } from "csv-parse";
import type pg from "pg";
import { to as copyTo } from "pg-copy-streams";
import { z } from "zod";

// Where an execution's recipients come from (DESIGN "Outbound" 3): an uploaded CSV or NDJSON
// file under the state folder, or a table already in PostgreSQL. Every source streams, so a
// million rows never sit in memory, and yields rows numbered as the user counts them (CSV: the
// header is line 1, the first contact row 2; NDJSON and tables: from 1).

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

async function* readCsv(path: string): AsyncGenerator<AudienceRow> {
  // Arrays, not csv-parse's `columns`/`info` options: twice as fast on a million rows. Row
  // numbers count the header as row 1, as a spreadsheet shows them.
  const parser = createReadStream(path, { highWaterMark: 1 << 16 }).pipe(
    parse({ bom: true, skip_empty_lines: true, relax_column_count: true }),
  );
  let header: string[] | null = null;
  let row = 1;
  for await (const fields of parser as AsyncIterable<string[]>) {
    if (!header) {
      header = fields.map((name) => name.trim());
      continue;
    }
    row++;
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

async function* readNdjson(path: string): AsyncGenerator<AudienceRow> {
  const lines = createInterface({
    input: createReadStream(path),
    crlfDelay: Number.POSITIVE_INFINITY,
  });
  let row = 0;
  for await (const line of lines) {
    row++;
    if (line.trim() === "") continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (error) {
      yield {
        row,
        attributes: {},
        problem: { field: "row", message: `not JSON: ${(error as Error).message}` },
      };
      continue;
    }
    if (value === null || typeof value !== "object" || Array.isArray(value)) {
      yield { row, attributes: {}, problem: { field: "row", message: "expected a JSON object" } };
      continue;
    }
    yield { row, attributes: value as Record<string, AudienceValue> };
  }
}

async function* readTable(pool: pg.Pool, name: string): AsyncGenerator<AudienceRow> {
  const client = await pool.connect();
  try {
    // COPY ... TO STDOUT streams rows without a cursor; one JSON object per line.
    const stream = client.query(
      copyTo(`COPY (SELECT row_to_json(t) FROM ${quoteIdent(name)} t) TO STDOUT`),
    );
    const lines = createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY });
    let row = 0;
    for await (const line of lines) {
      row++;
      // COPY text format escapes backslashes; JSON text from row_to_json needs them back.
      yield { row, attributes: JSON.parse(line.replace(/\\\\/g, "\\")) };
    }
  } finally {
    client.release();
  }
}

export function readAudience(audience: TAudience, pool: pg.Pool): AsyncGenerator<AudienceRow> {
  if (audience.type === "table") return readTable(pool, audience.name);
  return audience.format === "csv" ? readCsv(audience.path) : readNdjson(audience.path);
}
