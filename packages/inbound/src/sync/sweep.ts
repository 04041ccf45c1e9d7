import { readdir, rm, stat } from "node:fs/promises";
import { join } from "node:path";

// Seed 000 inbound step 7: report files in the state results folder older than the retention
// (7 days by default) are deleted, whatever left them there (a failed import, a crash).

export async function sweepReportFiles(
  directory: string,
  retentionDays: number,
  now = Date.now(),
): Promise<string[]> {
  const cutoff = now - retentionDays * 86_400_000;
  const removed: string[] = [];
  async function walk(dir: string): Promise<void> {
    const entries = await readdir(dir, { withFileTypes: true }).catch(
      (error: NodeJS.ErrnoException) => {
        if (error.code === "ENOENT") return [];
        throw error;
      },
    );
    for (const entry of entries) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) await walk(path);
      else if ((await stat(path)).mtimeMs < cutoff) {
        await rm(path, { force: true });
        removed.push(path);
      }
    }
  }
  await walk(directory);
  return removed;
}
