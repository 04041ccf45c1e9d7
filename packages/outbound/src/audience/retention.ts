import { readdir, rm, stat } from "node:fs/promises";
import { join, resolve } from "node:path";
import type { OutboundDeps } from "../context.ts";

// Uploaded audiences are contact lists: once planned, the recipients are in PostgreSQL and the
// file is only a copy of personal data on disk. The housekeeping role deletes the ones older
// than AUDIENCE_RETENTION_DAYS (issue 14), except a file an execution may still plan from: one
// with no batches yet that has not been cancelled or completed (scheduled further out than the
// retention, paused mid-plan, or failed in planning and so replayable from the start).
// Creating an execution also stamps its file's mtime, so a file just chosen is never old.

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
    `SELECT audience->>'path' AS path FROM execution e
     WHERE audience->>'type' = 'file' AND status NOT IN ('cancelled', 'completed')
       AND NOT EXISTS (SELECT 1 FROM batch b WHERE b.execution_id = e.id)`,
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
