import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { type CsvRecord, readCsvRecords } from "../src/audience/csv.ts";
import { readLines } from "../src/audience/lines.ts";

// The byte-level readers under the audience sources (issue 14): a bad record is reported and
// skipped, the rest is read, and the answer doesn't depend on how the bytes were chunked.

async function records(input: Buffer | string, maxBytes = 1000, chunk = 1 << 16) {
  const bytes = Buffer.from(input);
  const chunks: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += chunk) chunks.push(bytes.subarray(i, i + chunk));
  const out: CsvRecord[] = [];
  for await (const record of readCsvRecords(Readable.from(chunks), maxBytes)) out.push(record);
  return out;
}

/** The same records whatever the chunk size (1 byte, a few, all at once). */
async function csv(input: Buffer | string, maxBytes = 1000) {
  const whole = await records(input, maxBytes);
  for (const chunk of [1, 2, 5, 13]) {
    expect(await records(input, maxBytes, chunk), `chunks of ${chunk}`).toEqual(whole);
  }
  return whole.map((r) => (r.problem ? { problem: r.problem } : r.fields));
}

describe("readCsvRecords", () => {
  it("reads RFC 4180: quotes, doubled quotes, commas and line breaks inside quotes, CRLF", async () => {
    expect(
      await csv('id,name\r\n1,"Doe, ""J"" Ann"\r\n2,"two\nlines"\r\n\r\n3,\r\n4,""\r\n'),
    ).toEqual([
      ["id", "name"],
      ["1", 'Doe, "J" Ann'],
      ["2", "two\nlines"],
      ["3", ""],
      ["4", ""],
    ]);
    expect(await csv("\uFEFFid\n1")).toEqual([["id"], ["1"]]);
    expect(await csv("id,x\r1,a\r2,b\r")).toEqual([
      ["id", "x"],
      ["1", "a"],
      ["2", "b"],
    ]);
    expect(await csv("")).toEqual([]);
  });

  it("a stray quote is a problem of its field; the next line is read as usual", async () => {
    expect(await csv('id,name,city\n1,Ann "the man",Oslo\n2,"Bo" x,Rome\n3,Cy,Lima\n')).toEqual([
      ["id", "name", "city"],
      { problem: { column: 1, message: expect.stringMatching(/quote inside a field/) } },
      { problem: { column: 1, message: expect.stringMatching(/stray quote/) } },
      ["3", "Cy", "Lima"],
    ]);
  });

  it("an opening quote never closed swallows no rows: reading resumes at the next line", async () => {
    expect(await csv('id,name\n1,"Ann\n2,Bo\n3,"Cy"\n4,Di\n')).toEqual([
      ["id", "name"],
      { problem: { column: 1, message: expect.stringMatching(/stray quote/) } },
      ["2", "Bo"],
      ["3", "Cy"],
      ["4", "Di"],
    ]);
    expect(await csv('id,name\n1,"Ann\n2,Bo\n')).toEqual([
      ["id", "name"],
      { problem: { column: 1, message: "a quoted field has no closing quote" } },
      ["2", "Bo"],
    ]);
  });

  it("NUL and bytes that are not UTF-8 name their field", async () => {
    const file = Buffer.concat([
      Buffer.from("id,name,city\n1,A\0n,Oslo\n2,Bo,Z"),
      Buffer.from([0xfc]),
      Buffer.from("rich\n3,Cy,Lima\n"),
    ]);
    expect(await csv(file)).toEqual([
      ["id", "name", "city"],
      { problem: { column: 1, message: "contains a NUL byte" } },
      { problem: { column: 2, message: expect.stringMatching(/not UTF-8/) } },
      ["3", "Cy", "Lima"],
    ]);
  });

  it("a record over the cap is a problem; quoted or not, the rows after it are read", async () => {
    const long = "x".repeat(300);
    expect(await csv(`id,name\n1,${long}\n2,Bo\n3,"${long}\n4,Cy\n5,"a""b"\n`, 100)).toEqual([
      ["id", "name"],
      { problem: { column: null, message: "longer than 100 bytes" } },
      ["2", "Bo"],
      { problem: { column: null, message: "longer than 100 bytes" } },
      ["4", "Cy"],
      ["5", 'a"b'],
    ]);
    // The cap counts the record's bytes without its line break, quotes included.
    const at = `1,${"y".repeat(8)}`;
    const quoted = `2,"${"z".repeat(6)}"`;
    expect(await csv(`id,v\r\n${at}\r\n${quoted}\r\n${at}y\r\n3,ok`, 10)).toEqual([
      ["id", "v"],
      ["1", "y".repeat(8)],
      ["2", "z".repeat(6)],
      { problem: { column: null, message: "longer than 10 bytes" } },
      ["3", "ok"],
    ]);
  });
});

describe("readCsvRecords on a 256 MB record", () => {
  it("drops it as it comes, quoted or not, and reads the next row", async () => {
    const chunk = Buffer.alloc(1 << 20, 0x61);
    async function* huge(open: string) {
      yield Buffer.from(`id,name\n1,${open}`);
      for (let i = 0; i < 256; i++) yield chunk;
      yield Buffer.from("\n2,Bo\n");
    }
    const before = process.memoryUsage().rss;
    for (const open of ["", '"']) {
      const out = [];
      for await (const record of readCsvRecords(huge(open), 1024)) out.push(record);
      expect(out).toEqual([
        { fields: ["id", "name"] },
        { fields: [], problem: { column: null, message: "longer than 1024 bytes" } },
        { fields: ["2", "Bo"] },
      ]);
    }
    expect(process.memoryUsage().rss - before).toBeLessThan(64 << 20);
  });
});

describe("readLines", () => {
  it("numbers lines, strips \\r and a BOM, and drops a line over the cap", async () => {
    const input = Readable.from([Buffer.from("\uFEFFone\r\n\nthree-is-long\nfour")]);
    const lines = [];
    for await (const line of readLines(input, 5)) {
      lines.push({ ...line, bytes: line.bytes?.toString() ?? null });
    }
    expect(lines).toEqual([
      { line: 1, bytes: "one", length: 3 },
      { line: 2, bytes: "", length: 0 },
      { line: 3, bytes: null, length: 13 },
      { line: 4, bytes: "four", length: 4 },
    ]);
  });

  it("skips a 256 MB line chunk by chunk without holding it", async () => {
    const chunk = Buffer.alloc(1 << 20, 0x61);
    async function* huge() {
      yield Buffer.from("first\n");
      for (let i = 0; i < 256; i++) yield chunk;
      yield Buffer.from("\nlast\n");
    }
    const before = process.memoryUsage().rss;
    const lines = [];
    for await (const line of readLines(huge(), 1024)) {
      lines.push({ line: line.line, bytes: line.bytes?.toString() ?? null, length: line.length });
    }
    expect(lines).toEqual([
      { line: 1, bytes: "first", length: 5 },
      { line: 2, bytes: null, length: 256 << 20 },
      { line: 3, bytes: "last", length: 4 },
    ]);
    expect(process.memoryUsage().rss - before).toBeLessThan(64 << 20);
  });
});
