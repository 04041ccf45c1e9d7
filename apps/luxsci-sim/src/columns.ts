// A column of strings kept outside the JS heap: UTF-8 bytes appended to one growing buffer,
// with the end offset of each value in a typed array. A million `to` and chid values cost
// their bytes plus 4 bytes each, instead of a heap string apiece (with V8's per-string
// overhead and the heap growth that follows); a value is decoded when it is read.

const INITIAL_BYTES = 1 << 16;
const INITIAL_COUNT = 1 << 12;

export class StringColumn {
  private bytes = new Uint8Array(INITIAL_BYTES);
  private buffer = Buffer.from(this.bytes.buffer);
  /** ends[i]: byte offset just past value i; a null is stored as -(offset) - 1. */
  private ends = new Int32Array(INITIAL_COUNT);
  private used = 0;
  length = 0;

  push(value: string | null): void {
    if (this.length === this.ends.length) {
      const ends = new Int32Array(this.ends.length * 2);
      ends.set(this.ends);
      this.ends = ends;
    }
    if (value === null) {
      this.ends[this.length++] = -this.used - 1;
      return;
    }
    const needed = this.used + Buffer.byteLength(value);
    if (needed > this.bytes.length) {
      let size = this.bytes.length * 2;
      while (size < needed) size *= 2;
      const bytes = new Uint8Array(size);
      bytes.set(this.bytes.subarray(0, this.used));
      this.bytes = bytes;
      this.buffer = Buffer.from(bytes.buffer);
    }
    this.used += this.buffer.write(value, this.used);
    this.ends[this.length++] = this.used;
  }

  get(i: number): string | null {
    if (i < 0 || i >= this.length) return null;
    const end = this.ends[i] as number;
    if (end < 0) return null;
    const previous = i === 0 ? 0 : (this.ends[i - 1] as number);
    const start = previous < 0 ? -previous - 1 : previous;
    return this.buffer.toString("utf8", start, end);
  }

  /** Bytes held (for the memory figures). */
  get byteLength(): number {
    return this.bytes.byteLength + this.ends.byteLength;
  }
}
