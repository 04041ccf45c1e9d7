import { describe, expect, it } from "vitest";
import { StringHashSet } from "../src/plan/hash-set.ts";

// Planning's duplicate check: a recipient repeated anywhere in a million rows is caught, and no
// two different addresses are taken for one another.

describe("StringHashSet", () => {
  it("knows every key it was given and no other, across many grows", () => {
    const set = new StringHashSet();
    const count = 300_000;
    let firstRefused = 0;
    for (let i = 0; i < count; i++) if (!set.add(`user${i}@example.com`)) firstRefused++;
    expect(firstRefused).toBe(0);
    expect(set.size).toBe(count);
    let repeatedAccepted = 0;
    for (let i = 0; i < count; i += 7) if (set.add(`user${i}@example.com`)) repeatedAccepted++;
    expect(repeatedAccepted).toBe(0);
    let newRefused = 0;
    for (let i = count; i < count + 50_000; i++) if (!set.add(`user${i}@example.com`)) newRefused++;
    expect(newRefused).toBe(0);
    expect(set.size).toBe(count + 50_000);
  });

  it("tells apart keys that differ only in case, order or unicode, and the empty key", () => {
    const set = new StringHashSet();
    for (const key of ["", "a", "A", "ab", "ba", "zürich", "zurich", "日本", "本日"]) {
      expect(set.add(key)).toBe(true);
    }
    expect(set.add("")).toBe(false);
    expect(set.add("zürich")).toBe(false);
  });
});
