import { isAscii, isUtf8 } from "node:buffer";
import { createReadStream } from "node:fs";
import type { ReportRow } from "@luxrelay/luxsci";
import type { SourcedRow } from "./types.ts";

// Export files (seed 000 inbound steps 2-6; contract "Async export"): RFC 4180 CSV, a header
// row of the report's column names, then one record per row, quoted fields possibly spanning
// lines. Read as bytes so that a record with invalid UTF-8 is caught (a text decoder would
// turn it into U+FFFD silently) and reported with its line, while every other record goes on.
// Records without quotes, nearly all of them, are split with one String#split.

const LF = 0x0a;
const CR = 0x0d;
const QUOTE = 0x22;
const READ_CHUNK_BYTES = 1 << 20;
const BOM = "\uFEFF";

/** Thrown when a file can't be read as a report at all (no usable header). */
export class ReportFileError extends Error {
  override name = "ReportFileError";
}

interface CsvRecord {
  /** End of the record's bytes (before its LF). */
  end: number;
  /** Where the next record starts. */
  next: number;
  /** LFs inside quoted fields: the record spans that many more lines. */
  innerLines: number;
  quoted: boolean;
}

/**
 * Finds records in one buffer. Positions only move forward, so the next quote is searched
 * once and remembered: a buffer without quotes costs one indexOf, not one per line.
 */
class RecordScanner {
  private nextQuote: number;

  constructor(
    private readonly buf: Buffer,
    start = 0,
  ) {
    this.nextQuote = buf.indexOf(QUOTE, start);
  }

  /** The record starting at `start`, or null when the buffer ends inside it. */
  find(start: number): CsvRecord | null {
    const buf = this.buf;
    let pos = start;
    let quotes = 0;
    let innerLines = 0;
    for (;;) {
      const lf = buf.indexOf(LF, pos);
      const stop = lf < 0 ? buf.length : lf;
      while (this.nextQuote >= 0 && this.nextQuote < stop) {
        quotes++;
        this.nextQuote = buf.indexOf(QUOTE, this.nextQuote + 1);
      }
      if (lf < 0) return null;
      if (quotes % 2 === 0) return { end: lf, next: lf + 1, innerLines, quoted: quotes > 0 };
      innerLines++;
      pos = lf + 1;
    }
  }
}

/** Splits a record with quoted fields (RFC 4180: "" inside quotes is one quote). */
function splitQuoted(text: string): string[] | string {
  const fields: string[] = [];
  let i = 0;
  for (;;) {
    if (text.charCodeAt(i) === QUOTE) {
      let value = "";
      let from = i + 1;
      for (;;) {
        const q = text.indexOf('"', from);
        if (q < 0) return "unterminated quoted field";
        value += text.slice(from, q);
        if (text.charCodeAt(q + 1) === QUOTE) {
          value += '"';
          from = q + 2;
          continue;
        }
        i = q + 1;
        break;
      }
      fields.push(value);
      if (i === text.length) return fields;
      if (text.charCodeAt(i) !== 44 /* , */) return `unexpected text after a quoted field`;
      i++;
    } else {
      const comma = text.indexOf(",", i);
      if (comma < 0) {
        fields.push(text.slice(i));
        return fields;
      }
      fields.push(text.slice(i, comma));
      i = comma + 1;
    }
  }
}

/** Turns record texts into rows keyed by the header (the first record). */
class RowBuilder {
  header: string[] | null = null;
  /** Positions of the columns kept, ascending, and their names. */
  private kept: number[] = [];
  private keptNames: string[] = [];

  constructor(
    private readonly path: string,
    private readonly columns: ReadonlySet<string> | null,
  ) {}

  private setHeader(fields: string[]): void {
    if (fields[0]?.startsWith(BOM)) fields[0] = fields[0].slice(1);
    this.header = fields;
    fields.forEach((name, i) => {
      if (this.columns === null || this.columns.has(name)) {
        this.kept.push(i);
        this.keptNames.push(name);
      }
    });
  }

  /** The kept columns of a record without quotes: only those are sliced out of the text. */
  private unquotedRow(text: string, row: ReportRow): number {
    const { kept, keptNames } = this;
    let next = 0;
    let wanted = kept[0] ?? -1;
    let field = 0;
    let start = 0;
    for (;;) {
      const comma = text.indexOf(",", start);
      if (field === wanted) {
        row[keptNames[next] as string] = comma < 0 ? text.slice(start) : text.slice(start, comma);
        wanted = kept[++next] ?? -1;
      }
      field++;
      if (comma < 0) return field;
      start = comma + 1;
    }
  }

  /** The row of one record's text, or undefined for the header and blank lines. */
  build(text: string, quoted: boolean, line: number): SourcedRow | undefined {
    if (text.length === 0) return undefined;
    const header = this.header;
    if (header === null || quoted) {
      const fields = quoted ? splitQuoted(text) : text.split(",");
      if (typeof fields === "string") {
        if (header === null) throw new ReportFileError(`${this.path}: header row: ${fields}`);
        return { line, row: {}, defect: { field: "(row)", message: fields } };
      }
      if (header === null) {
        this.setHeader(fields);
        return undefined;
      }
      const row: ReportRow = {};
      for (let k = 0; k < this.kept.length; k++) {
        const value = fields[this.kept[k] as number];
        if (value !== undefined) row[this.keptNames[k] as string] = value;
      }
      return this.checked(row, fields.length, line);
    }
    const row: ReportRow = {};
    return this.checked(row, this.unquotedRow(text, row), line);
  }

  private checked(row: ReportRow, fieldCount: number, line: number): SourcedRow {
    const width = (this.header as string[]).length;
    if (fieldCount !== width) {
      const message = `${fieldCount} fields, the header has ${width}`;
      return { line, row, defect: { field: "(row)", message } };
    }
    return { line, row };
  }

  /** The row of one record's bytes, checked for UTF-8 first. */
  buildBytes(bytes: Buffer, quoted: boolean, line: number): SourcedRow | undefined {
    if (isUtf8(bytes)) return this.build(bytes.toString("utf8"), quoted, line);
    if (this.header === null)
      throw new ReportFileError(`${this.path}: header row is not valid UTF-8`);
    return { line, row: {}, defect: { field: "(row)", message: "invalid UTF-8" } };
  }
}

export interface ReadReportCsvOptions {
  /**
   * Only these columns go into the rows (the others are still counted, for the field-count
   * check): what the import reads (IMPORTED_COLUMNS) is about a third of a report's. Default:
   * every column.
   */
  columns?: Iterable<string>;
}

/**
 * Streams the rows of a report export file, keyed by the file's own header row. Lines are
 * file lines (the header is line 1; a record spanning lines has its first line). A record
 * with invalid UTF-8, the wrong number of fields or broken quoting is yielded with a
 * `defect` instead of being dropped, so the import reports it; blank lines are skipped.
 */
export async function* readReportCsv(
  path: string,
  options: ReadReportCsvOptions = {},
): AsyncGenerator<SourcedRow> {
  const rows = new RowBuilder(path, options.columns ? new Set(options.columns) : null);
  let pending: Buffer | null = null;
  let line = 1;
  const stream = createReadStream(path, { highWaterMark: READ_CHUNK_BYTES });
  // Rows of the complete records of buf[start..]; returns where the incomplete rest begins.
  function* recordsOf(buf: Buffer, start: number): Generator<SourcedRow, number> {
    const scanner = new RecordScanner(buf, start);
    const records: CsvRecord[] = [];
    let next = start;
    for (let record = scanner.find(start); record !== null; record = scanner.find(record.next)) {
      records.push(record);
      next = record.next;
    }
    // Export files are nearly always ASCII: then the whole block is decoded once and records
    // are string slices at their byte offsets. Otherwise each record is checked and decoded.
    const text = isAscii(buf.subarray(start, next)) ? buf.toString("latin1", start, next) : null;
    let from = start;
    for (const record of records) {
      const end = record.end > from && buf[record.end - 1] === CR ? record.end - 1 : record.end;
      const row =
        text === null
          ? rows.buildBytes(buf.subarray(from, end), record.quoted, line)
          : rows.build(text.slice(from - start, end - start), record.quoted, line);
      if (row !== undefined) yield row;
      line += 1 + record.innerLines;
      from = record.next;
    }
    return next;
  }

  for await (const chunk of stream as AsyncIterable<Buffer>) {
    let start = 0;
    if (pending !== null) {
      // Complete the record that straddles the chunks by joining only up to its end (one
      // line, unless a quoted field spans more) rather than copying the whole chunk.
      for (let lf = chunk.indexOf(LF); lf >= 0; lf = chunk.indexOf(LF, lf + 1)) {
        const joined = Buffer.concat([pending, chunk.subarray(0, lf + 1)]);
        if (new RecordScanner(joined).find(0) !== null) {
          yield* recordsOf(joined, 0);
          pending = null;
          start = lf + 1;
          break;
        }
      }
      if (pending !== null) {
        pending = Buffer.concat([pending, chunk]);
        continue;
      }
    }
    const next = yield* recordsOf(chunk, start);
    pending = next < chunk.length ? chunk.subarray(next) : null;
  }
  // The last record may have no line break; an unbalanced quote leaves the rest here too.
  if (pending !== null) {
    const end = pending[pending.length - 1] === CR ? pending.length - 1 : pending.length;
    const row = rows.buildBytes(pending.subarray(0, end), pending.includes(QUOTE), line);
    if (row !== undefined) yield row;
  }
}
