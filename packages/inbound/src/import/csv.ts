import { isAscii, isUtf8 } from "node:buffer";
import { createReadStream } from "node:fs";
import type { ReportRow } from "@luxrelay/luxsci";
import type { SourcedRow } from "./types.ts";

// Export files (seed 000 inbound steps 2-6; contract "Async export"): RFC 4180 CSV, a header
// row of the report's column names, then one record per row, quoted fields possibly spanning
// lines. Read as bytes so that a record with invalid UTF-8 is caught (a text decoder would
// turn it into U+FFFD silently) and reported with its line, while every other record goes on.
// Records without quotes, nearly all of them, are split with one String#split.
//
// A quote that opens a field which never closes (a stray `"` in a value LuxSci did not quote)
// would make the rest of the file one quoted field. So a record is only let span lines when it
// closes within MAX_RECORD_LINES lines and MAX_RECORD_BYTES and then reads as one row (quoted
// fields closed, the header's number of fields); otherwise its first line is rejected as
// unbalanced and reading goes on at the next line: one bad line costs one row, and the scan
// stays linear (each line is read at most twice).

const LF = 0x0a;
const CR = 0x0d;
const QUOTE = 0x22;
const READ_CHUNK_BYTES = 1 << 20;
const BOM = "\uFEFF";
/** Lines a quoted field may span (a multi-line bounce text); further, its quote is unbalanced. */
const MAX_RECORD_LINES = 100;
/** Bytes a record spanning lines may hold before its opening quote is taken as unbalanced. */
const MAX_RECORD_BYTES = 1 << 20;
const UNBALANCED = `unbalanced quote: the line's quotes do not close into one row within ${MAX_RECORD_LINES} lines`;

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
  /** The first line of a quoted field that never closed into a row: rejected, not read. */
  unbalanced: boolean;
}

/**
 * Finds records in one buffer. Positions move forward (back only to the line after an
 * unbalanced quote), so the next quote is searched once and remembered: a buffer without
 * quotes costs one indexOf, not one per line.
 */
class RecordScanner {
  private nextQuote: number;

  /**
   * `final`: the buffer ends the file (its last record may lack a line break). `readsAsRow`
   * says whether bytes [from, to) of a record spanning lines read as one row.
   */
  constructor(
    private readonly buf: Buffer,
    start: number,
    private readonly final: boolean,
    private readonly readsAsRow: (from: number, to: number) => boolean,
  ) {
    this.nextQuote = buf.indexOf(QUOTE, start);
  }

  /** The record starting at `start`, or null when the buffer ends inside it (or is done). */
  find(start: number): CsvRecord | null {
    const buf = this.buf;
    if (start >= buf.length) return null;
    let pos = start;
    let quotes = 0;
    let innerLines = 0;
    let firstLf = -1;
    for (;;) {
      const lf = buf.indexOf(LF, pos);
      const stop = lf < 0 ? buf.length : lf;
      while (this.nextQuote >= 0 && this.nextQuote < stop) {
        quotes++;
        this.nextQuote = buf.indexOf(QUOTE, this.nextQuote + 1);
      }
      if (quotes % 2 === 0 && (lf >= 0 || this.final)) {
        if (innerLines > 0 && !this.readsAsRow(start, stop)) return this.unbalanced(firstLf);
        const next = lf < 0 ? buf.length : lf + 1;
        return { end: stop, next, innerLines, quoted: quotes > 0, unbalanced: false };
      }
      if (lf < 0) {
        // The file ends inside a quoted field, or one already too long for more bytes to help.
        if (this.final || (innerLines > 0 && buf.length - start > MAX_RECORD_BYTES)) {
          return this.unbalanced(firstLf);
        }
        return null;
      }
      if (firstLf < 0) firstLf = lf;
      innerLines++;
      if (innerLines > MAX_RECORD_LINES || lf + 1 - start > MAX_RECORD_BYTES) {
        return this.unbalanced(firstLf);
      }
      pos = lf + 1;
    }
  }

  /** The record's first line, alone and unbalanced; the scan resumes on the line after it. */
  private unbalanced(firstLf: number): CsvRecord {
    const end = firstLf < 0 ? this.buf.length : firstLf;
    const next = firstLf < 0 ? this.buf.length : firstLf + 1;
    this.nextQuote = this.buf.indexOf(QUOTE, next);
    return { end, next, innerLines: 0, quoted: true, unbalanced: true };
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
      // Only a record spanning lines has a line break: it must be inside a quoted field (a
      // quote in the middle of a value opens none).
      const comma = text.indexOf(",", i);
      const field = comma < 0 ? text.slice(i) : text.slice(i, comma);
      if (field.includes("\n")) return "a line break outside quotes";
      fields.push(field);
      if (comma < 0) return fields;
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

  /**
   * Whether a record spanning lines reads as one row: its quoted fields close, and it has the
   * header's number of fields (any number while there is no header yet). Only the structure
   * is read, so latin1 does for any encoding.
   */
  readsAsRow(bytes: Buffer): boolean {
    const fields = splitQuoted(bytes.toString("latin1"));
    return (
      typeof fields !== "string" && (this.header === null || fields.length === this.header.length)
    );
  }

  /** The row of a line whose quote never closed: rejected with its line. */
  unbalanced(line: number): SourcedRow {
    if (this.header === null) throw new ReportFileError(`${this.path}: header row: ${UNBALANCED}`);
    return { line, row: {}, defect: { field: "(row)", message: UNBALANCED } };
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
  let line = 1;
  const stream = createReadStream(path, { highWaterMark: READ_CHUNK_BYTES });
  // Rows of the complete records of buf[start..]; returns where the incomplete rest begins.
  function* recordsOf(buf: Buffer, start: number, final: boolean): Generator<SourcedRow, number> {
    const withoutCr = (from: number, end: number) =>
      end > from && buf[end - 1] === CR ? end - 1 : end;
    const scanner = new RecordScanner(buf, start, final, (from, to) =>
      rows.readsAsRow(buf.subarray(from, withoutCr(from, to))),
    );
    const rowOf = (record: CsvRecord, from: number, text: string | null, textStart: number) => {
      if (record.unbalanced) return rows.unbalanced(line);
      const end = withoutCr(from, record.end);
      return text === null
        ? rows.buildBytes(buf.subarray(from, end), record.quoted, line)
        : rows.build(text.slice(from - textStart, end - textStart), record.quoted, line);
    };
    let from = start;
    // The header first, so that records spanning lines are checked against its width.
    while (rows.header === null) {
      const record = scanner.find(from);
      if (record === null) return from;
      const row = rowOf(record, from, null, from);
      if (row !== undefined) yield row;
      line += 1 + record.innerLines;
      from = record.next;
    }
    const records: CsvRecord[] = [];
    let next = from;
    for (let record = scanner.find(from); record !== null; record = scanner.find(record.next)) {
      records.push(record);
      next = record.next;
    }
    // Export files are nearly always ASCII: then the whole block is decoded once and records
    // are string slices at their byte offsets. Otherwise each record is checked and decoded.
    const textStart = from;
    const text = isAscii(buf.subarray(from, next)) ? buf.toString("latin1", from, next) : null;
    for (const record of records) {
      const row = rowOf(record, from, text, textStart);
      if (row !== undefined) yield row;
      line += 1 + record.innerLines;
      from = record.next;
    }
    return next;
  }

  // A record cut by the end of a chunk is completed from the next one: it is a line, or a few
  // (MAX_RECORD_LINES, MAX_RECORD_BYTES), so the copy costs about one chunk per chunk.
  let pending: Buffer | null = null;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    const buf: Buffer = pending === null ? chunk : Buffer.concat([pending, chunk]);
    const next = yield* recordsOf(buf, 0, false);
    pending = next < buf.length ? buf.subarray(next) : null;
  }
  // The last record may have no line break, or open a quoted field that never closes.
  if (pending !== null) yield* recordsOf(pending, 0, true);
}
