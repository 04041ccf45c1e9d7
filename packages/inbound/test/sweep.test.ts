import { mkdirSync, mkdtempSync, readdirSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { sweepReportFiles } from "../src/index.ts";

// Seed 000 inbound step 7: report files older than the retention are deleted; newer stay.
describe("sweepReportFiles", () => {
  it("deletes files older than the retention, in every channel folder, and keeps the rest", async () => {
    const root = mkdtempSync(join(tmpdir(), "lr-sweep-"));
    mkdirSync(join(root, "chan-a"));
    mkdirSync(join(root, "chan-b"));
    const old = join(root, "chan-a", "1-old.csv");
    const fresh = join(root, "chan-a", "2-fresh.csv");
    const oldToo = join(root, "chan-b", "3-old.csv");
    for (const path of [old, fresh, oldToo]) writeFileSync(path, "x\n");
    const eightDaysAgo = new Date(Date.now() - 8 * 86_400_000);
    utimesSync(old, eightDaysAgo, eightDaysAgo);
    utimesSync(oldToo, eightDaysAgo, eightDaysAgo);
    const removed = await sweepReportFiles(root, 7);
    expect(removed.sort()).toEqual([old, oldToo].sort());
    expect(readdirSync(join(root, "chan-a"))).toEqual(["2-fresh.csv"]);
    expect(await sweepReportFiles(join(root, "missing"), 7)).toEqual([]);
  });
});
