import { readdir, rm, stat } from "node:fs/promises";
import { join, resolve } from "node:path";
import type { OutboundDeps } from "../context.ts";

// Uploaded audiences are contact lists: once planned, the recipients are in PostgreSQL and the
// file is only a copy of personal data on disk. The housekeeping role deletes the ones older
// than AUDIENCE_RETENTION_DAYS (issue 14), except a file an execution has yet to plan (a send
// scheduled further out than the retention).

/** Where uploads are written: `<STATE_DIR>/audiences`, shared by the producer and workers. */
export function audiencesDir(stateDir: string): string {
  return resolve(stateDir, "audiences");
}

/** Deletes uploaded audiences older than `retentionDays`; returns their paths. */
export async function sweepAudienceFiles(
  deps: Pick<OutboundDeps, "pool" | "stateDir">,
  retentionDays: number,
  now = Date.now(),
): Promise<string[]> {
  const dir = audiencesDir(deps.stateDir);
  const entries = await readdir(dir, { withFileTypes: true }).catch(
    (error: NodeJS.ErrnoException) => {
      if (error.code === "ENOENT") return [];
      throw error;
    },
  );
  const cutoff = now - retentionDays * 86_400_000;
  const old: string[] = [];
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isFile() && (await stat(path)).mtimeMs < cutoff) old.push(path);
  }
  if (old.length === 0) return [];
  const unplanned = await deps.pool.query<{ path: string }>(
    `SELECT audience->>'path' AS path FROM execution
     WHERE status IN ('scheduled', 'planning') AND audience->>'type' = 'file'`,
  );
  const kept = new Set(unplanned.rows.map((row) => resolve(row.path)));
  const removed: string[] = [];
  for (const path of old) {
    if (kept.has(path)) continue;
    await rm(path, { force: true });
    removed.push(path);
  }
  return removed;
}
