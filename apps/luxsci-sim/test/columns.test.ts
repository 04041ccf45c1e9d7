import { describe, expect, it } from "vitest";
import { StringColumn } from "../src/columns.ts";

describe("StringColumn", () => {
  it("gives back every value, nulls and multi-byte text included, across growth", () => {
    const column = new StringColumn();
    const values: (string | null)[] = [];
    for (let i = 0; i < 50_000; i++) {
      values.push(i % 7 === 0 ? null : i % 11 === 0 ? `ünïcødé_${i}@exämple.com` : `r${i}@x.com`);
    }
    values.push("", null, null, "last");
    for (const value of values) column.push(value);
    expect(column.length).toBe(values.length);
    values.forEach((value, i) => {
      expect(column.get(i)).toBe(value);
    });
    expect(column.get(values.length)).toBeNull();
  });
});
