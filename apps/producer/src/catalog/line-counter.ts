import { Transform, type TransformCallback } from "node:stream";

// Shared by the API (rows of an upload) and the CLI (its progress line): no other imports,
// so the CLI starts without loading the database or queue clients.

/** Counts non-empty lines of a byte stream as it passes (a line may end in \n or \r\n). */
export class LineCounter extends Transform {
  lines = 0;
  bytes = 0;
  /** The current, unfinished line has content. */
  private pending = false;

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.bytes += chunk.length;
    let start = 0;
    for (let end = chunk.indexOf(10); end !== -1; end = chunk.indexOf(10, start)) {
      const length = end - start;
      if (this.pending || length > 1 || (length === 1 && chunk[start] !== 13)) this.lines++;
      this.pending = false;
      start = end + 1;
    }
    const rest = chunk.length - start;
    if (rest > 1 || (rest === 1 && chunk[start] !== 13)) this.pending = true;
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    if (this.pending) this.lines++;
    this.pending = false;
    callback();
  }
}
