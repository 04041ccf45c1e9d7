// Lines cut out of a byte stream before anything decodes them (issue 14: hostile audiences).
// A line over the cap is counted and dropped chunk by chunk, never held, so a 600 MB line costs
// a scan, not a crash; bytes stay bytes, so text that is not UTF-8 can be refused rather than
// silently turned into U+FFFD.

const LF = 10;
const CR = 13;

export interface Line {
  /** 1-based: every \n starts a new line, empty ones included. */
  line: number;
  /** The line without its \n or \r\n, or null when it was longer than the cap. */
  bytes: Buffer | null;
  /** Its length in bytes (also of a line too long to keep). */
  length: number;
}

/** A UTF-8 byte order mark at the start of a file (Windows tools write one). */
export function stripBom(bytes: Buffer): Buffer {
  return bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? bytes.subarray(3) : bytes;
}

/** Splits `input` into lines of at most `maxBytes` (a longer one comes out with bytes null). */
export async function* readLines(
  input: AsyncIterable<Buffer>,
  maxBytes: number,
): AsyncGenerator<Line> {
  let parts: Buffer[] = [];
  let length = 0;
  let line = 0;
  let first = true;
  const finish = (): Line => {
    line++;
    let bytes: Buffer | null = null;
    let size = length;
    if (length <= maxBytes + 1) {
      bytes = parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts, length);
      if (bytes[bytes.length - 1] === CR) bytes = bytes.subarray(0, bytes.length - 1);
      size = bytes.length;
      if (size > maxBytes) bytes = null;
    }
    parts = [];
    length = 0;
    return { line, bytes, length: size };
  };
  for await (let chunk of input as AsyncIterable<Buffer>) {
    if (first) {
      first = false;
      chunk = stripBom(chunk);
    }
    let start = 0;
    for (let end = chunk.indexOf(LF); end !== -1; end = chunk.indexOf(LF, start)) {
      length += end - start;
      if (length <= maxBytes + 1) parts.push(chunk.subarray(start, end));
      yield finish();
      start = end + 1;
    }
    if (start < chunk.length) {
      length += chunk.length - start;
      // Past the cap (and its \r), the line's bytes go: only its length is kept.
      if (length <= maxBytes + 1) parts.push(chunk.subarray(start));
      else parts = [];
    }
  }
  if (length > 0) yield finish();
}
