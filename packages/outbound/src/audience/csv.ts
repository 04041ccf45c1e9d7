import { isUtf8 } from "node:buffer";
import { OutboundInputError } from "../errors.ts";
import { stripBom } from "./lines.ts";

// CSV records read from bytes (RFC 4180: comma, double quotes, "" inside quotes, line breaks
// inside quoted fields), written for hostile files (issue 14). A bad record is reported and
// skipped, never the end of the file:
// - a quote inside an unquoted field (`Ann "the man"`) or after a closing quote: the record is
//   skipped to the end of its line;
// - a quoted field that goes bad (a stray closing quote, no closing quote at all, past the cap)
//   after running over line breaks most likely began with a stray quote: reading resumes after
//   the first line break inside it, so the rows it swallowed are read again;
// - a record over `maxBytes` is skipped to its line's end without being held in memory;
// - a NUL byte, or bytes that are not UTF-8, name the field they are in.

const COMMA = 44;
const QUOTE = 34;
const LF = 10;
const CR = 13;

export interface CsvRecord {
  fields: string[];
  /** Why the record can't be used; `column` is the field's index, null for the whole record. */
  problem?: { column: number | null; message: string };
}

type Problem = NonNullable<CsvRecord["problem"]>;

type Scan =
  /** Needs bytes past the buffer's end, or (past `limit`) the record is over the cap. */
  | { kind: "more"; field: number }
  | { kind: "record"; next: number; cells: number[]; problem?: Problem };

/** What one scan works on: the buffer, where the cap ends, whether more bytes can come. */
interface Window {
  buf: Buffer;
  /** Where the record would pass the cap: nothing at or after it is looked at. */
  limit: number;
  eof: boolean;
  nl: number;
}

/** The window has no more to give: end of input, or the cap. */
const exhausted = (w: Window) => w.eof && w.limit >= w.buf.length;

/** Skips the record to the end of the line holding `from`, with `problem`. */
function skipLine(w: Window, from: number, column: number, message: string): Scan {
  const end = w.buf.indexOf(w.nl, from);
  if (end === -1 ? !exhausted(w) : end >= w.limit) return { kind: "more", field: from };
  const next = end === -1 ? w.buf.length : end + 1;
  return { kind: "record", next, cells: [], problem: { column, message } };
}

/**
 * A quoted field from `open` went bad at `at`. If it ran over a line break, its opening quote
 * was most likely stray: reading resumes after that line break, so no row is swallowed.
 */
function badQuoted(w: Window, open: number, at: number, column: number, message: string): Scan {
  const inside = w.buf.indexOf(w.nl, open);
  if (inside !== -1 && inside < at) {
    return { kind: "record", next: inside + 1, cells: [], problem: { column, message } };
  }
  return skipLine(w, at, column, message);
}

const STRAY_QUOTE =
  "a quote inside a field that does not start with one (quote the field, double the quote)";
const BAD_CLOSING_QUOTE =
  'a quote inside a quoted field must be doubled (""), or the field has a stray quote';

/**
 * One record from `start`: its cells as [start, end, quoted (1/0)] triples, or "more" (with
 * where the field being read starts) when it needs bytes past the window.
 */
function scanRecord(w: Window, start: number): Scan {
  const { buf, nl, eof } = w;
  const cells: number[] = [];
  const len = buf.length;
  const stop = Math.min(len, w.limit);
  let p = start;
  for (;;) {
    if (p < len && buf[p] === QUOTE) {
      let q = p + 1;
      for (;;) {
        const close = buf.indexOf(QUOTE, q);
        if (close === -1 || close >= stop) {
          if (!exhausted(w)) return { kind: "more", field: p };
          return badQuoted(w, p, len, cells.length / 3, "a quoted field has no closing quote");
        }
        if (close + 2 >= len && !eof) return { kind: "more", field: p };
        const after = close + 1 < len ? (buf[close + 1] as number) : nl;
        if (after === QUOTE) {
          q = close + 2;
          continue;
        }
        const crlf = after === CR && nl === LF;
        // A \r at the very end of the file ends the record as \r\n would.
        const ends = after === nl || (crlf && (close + 2 >= len || buf[close + 2] === LF));
        if (after !== COMMA && !ends) {
          return badQuoted(w, p, close, cells.length / 3, BAD_CLOSING_QUOTE);
        }
        cells.push(p + 1, close, 1);
        if (after === COMMA) {
          p = close + 2;
          break;
        }
        return { kind: "record", next: Math.min(close + (crlf ? 3 : 2), len), cells };
      }
      continue;
    }
    let i = p;
    while (i < stop) {
      const c = buf[i];
      if (c === COMMA || c === nl || c === QUOTE) break;
      i++;
    }
    if (i === stop && !exhausted(w)) return { kind: "more", field: p };
    const c = i < len ? buf[i] : nl;
    if (c === QUOTE) return skipLine(w, i, cells.length / 3, STRAY_QUOTE);
    if (c === COMMA) {
      cells.push(p, i, 0);
      p = i + 1;
      continue;
    }
    const end = nl === LF && i > p && buf[i - 1] === CR ? i - 1 : i;
    cells.push(p, end, 0);
    return { kind: "record", next: Math.min(i + 1, len), cells };
  }
}

/** The index of the first cell whose bytes fail `ok`. */
function badCell(buf: Buffer, cells: number[], ok: (bytes: Buffer) => boolean): number | null {
  for (let i = 0; i < cells.length; i += 3) {
    if (!ok(buf.subarray(cells[i] as number, cells[i + 1] as number))) return i / 3;
  }
  return null;
}

function decode(buf: Buffer, start: number, next: number, cells: number[]): CsvRecord {
  const bytes = buf.subarray(start, next);
  if (bytes.indexOf(0) !== -1) {
    const column = badCell(buf, cells, (cell) => cell.indexOf(0) === -1);
    return { fields: [], problem: { column, message: "contains a NUL byte" } };
  }
  if (!isUtf8(bytes)) {
    const column = badCell(buf, cells, (cell) => isUtf8(cell));
    return {
      fields: [],
      problem: { column, message: "holds bytes that are not UTF-8 (save the file as UTF-8)" },
    };
  }
  const fields: string[] = [];
  for (let i = 0; i < cells.length; i += 3) {
    const value = buf.toString("utf8", cells[i], cells[i + 1]);
    fields.push(cells[i + 2] === 1 && value.includes('"') ? value.replaceAll('""', '"') : value);
  }
  return { fields };
}

/** The record delimiter: \n (with or without \r before it), or a lone \r (old Mac files). */
function lineBreakOf(buf: Buffer, eof: boolean): number | null {
  const lf = buf.indexOf(LF);
  const cr = buf.indexOf(CR);
  if (cr === -1 || (lf !== -1 && lf < cr)) return lf === -1 && !eof ? null : LF;
  if (cr + 1 >= buf.length && !eof) return null;
  return buf[cr + 1] === LF ? LF : CR;
}

/**
 * Records of a CSV byte stream, empty lines left out. A record longer than `maxBytes` comes
 * out as a problem with no fields, and so do the other bad records listed above.
 */
export async function* readCsvRecords(
  input: AsyncIterable<Buffer>,
  maxBytes: number,
): AsyncGenerator<CsvRecord> {
  let buf: Buffer = Buffer.alloc(0);
  let start = 0;
  let nl: number | null = null;
  let first = true;
  /** Dropping the rest of an over-long line, chunk by chunk. */
  let discarding = false;
  const tooLong: Problem = { column: null, message: `longer than ${maxBytes} bytes` };

  function* drain(eof: boolean): Generator<CsvRecord> {
    if (first) {
      if (buf.length < 3 && !eof) return;
      buf = stripBom(buf);
      first = false;
    }
    nl ??= lineBreakOf(buf, eof);
    if (nl === null) {
      if (buf.length > maxBytes) {
        throw new OutboundInputError(
          "audience",
          `the header line is longer than ${maxBytes} bytes`,
        );
      }
      return;
    }
    while (start < buf.length) {
      const scan = scanRecord({ buf, limit: start + maxBytes + 2, eof, nl }, start);
      if (scan.kind === "more") {
        if (buf.length - start <= maxBytes + 2) return;
        // Over the cap: reading resumes after the line break that ends the field being read
        // (the first one inside it, for a quoted field); none yet: the line is dropped as it
        // comes, never held.
        yield { fields: [], problem: tooLong };
        const at = buf.indexOf(nl, scan.field);
        if (at !== -1) {
          start = at + 1;
          continue;
        }
        discarding = true;
        buf = Buffer.alloc(0);
        start = 0;
        return;
      }
      const { next, cells, problem } = scan;
      const from = start;
      start = next;
      if (problem) {
        yield { fields: [], problem };
        continue;
      }
      if (next - from > maxBytes + 2 && recordLength(buf, from, next, nl) > maxBytes) {
        yield { fields: [], problem: tooLong };
        continue;
      }
      // An empty line is no record.
      if (cells.length === 3 && cells[0] === cells[1] && cells[2] === 0) continue;
      yield decode(buf, from, next, cells);
    }
  }

  for await (const chunk of input) {
    if (discarding) {
      const end = chunk.indexOf(nl ?? LF);
      if (end === -1) continue;
      discarding = false;
      buf = chunk.subarray(end + 1);
    } else {
      buf = start < buf.length ? Buffer.concat([buf.subarray(start), chunk]) : chunk;
    }
    start = 0;
    yield* drain(false);
  }
  if (!discarding) yield* drain(true);
}

/** A record's bytes without its line break. */
function recordLength(buf: Buffer, start: number, next: number, nl: number): number {
  let end = next;
  if (end > start && buf[end - 1] === nl) end--;
  if (nl === LF && end > start && buf[end - 1] === CR) end--;
  return end - start;
}
