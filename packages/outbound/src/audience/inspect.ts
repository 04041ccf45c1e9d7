import { createReadStream } from "node:fs";
import { OutboundInputError } from "../errors.ts";
import { readCsvRecords } from "./csv.ts";
import { EMAIL_FIELDS, emailOf } from "./email.ts";
import { readLines } from "./lines.ts";

// The head of an audience file, checked where it is uploaded and where an execution names it
// (issue 14): a file with no contact rows, a CSV whose header has no email column, or NDJSON
// whose first record has no email is refused then, not found out by the planner row by row.

export interface AudienceFileProblem {
  /** "email" when the address column or key is missing, "rows" when there is nothing to send. */
  field: "email" | "rows";
  message: string;
}

const EXPECTED = `expected one named ${EMAIL_FIELDS.join(", ")}`;

async function inspectCsv(path: string, maxRecordBytes: number) {
  let header: string[] | null = null;
  const records = readCsvRecords(createReadStream(path), maxRecordBytes);
  for await (const record of records) {
    // A second record, readable or not: the file has a row to plan.
    if (header) return null;
    if (record.problem) {
      return { field: "rows", message: `the header line: ${record.problem.message}` } as const;
    }
    header = record.fields.map((name) => name.trim());
    if (!header.some((name) => (EMAIL_FIELDS as readonly string[]).includes(name))) {
      return { field: "email", message: `the header has no email column: ${EXPECTED}` } as const;
    }
  }
  const message = header
    ? "the audience has a header and no contact rows"
    : "the audience is empty";
  return { field: "rows", message } as const;
}

/** inspectCsv, with a header line too long to end ("no line break in the first N bytes"). */
async function inspectCsvHead(path: string, maxRecordBytes: number) {
  try {
    return await inspectCsv(path, maxRecordBytes);
  } catch (error) {
    if (!(error instanceof OutboundInputError)) throw error;
    return {
      field: "rows",
      message: `the header line is longer than ${maxRecordBytes} bytes`,
    } as const;
  }
}

async function inspectNdjson(path: string, maxRecordBytes: number) {
  for await (const { line, bytes } of readLines(createReadStream(path), maxRecordBytes)) {
    if (bytes === null) {
      const message = `line ${line}, the first record, is longer than ${maxRecordBytes} bytes`;
      return { field: "rows", message } as const;
    }
    const text = bytes.toString("utf8");
    if (text.trim() === "") continue;
    let record: unknown;
    try {
      record = JSON.parse(text);
    } catch (error) {
      const message = `line ${line}, the first record, is not JSON: ${(error as Error).message}`;
      return { field: "rows", message } as const;
    }
    if (record === null || typeof record !== "object" || Array.isArray(record)) {
      return {
        field: "rows",
        message: `line ${line}, the first record, is not an object`,
      } as const;
    }
    if (emailOf(record as Record<string, unknown>) === undefined) {
      const message = `the first record (line ${line}) has no email: ${EXPECTED}`;
      return { field: "email", message } as const;
    }
    return null;
  }
  return { field: "rows", message: "the audience is empty" } as const;
}

/** What is wrong with the start of an audience file, or null when it can be planned. */
export async function inspectAudienceFile(
  path: string,
  format: "csv" | "ndjson",
  maxRecordBytes: number,
): Promise<AudienceFileProblem | null> {
  return format === "csv"
    ? inspectCsvHead(path, maxRecordBytes)
    : inspectNdjson(path, maxRecordBytes);
}
