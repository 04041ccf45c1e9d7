import { bytes, count } from "./output.ts";

// Progress on stderr so stdout stays clean for --json and pipes. On a terminal one line is
// redrawn in place (at most every PROGRESS_REDRAW_MS); elsewhere only the final line prints.

const PROGRESS_REDRAW_MS = 200;
const BAR_WIDTH = 24;

export class ProgressLine {
  private last = 0;
  private readonly tty = Boolean(process.stderr.isTTY);

  update(text: string, final = false): void {
    const now = Date.now();
    if (!final && (!this.tty || now - this.last < PROGRESS_REDRAW_MS)) return;
    this.last = now;
    if (this.tty) process.stderr.write(`\r\x1b[2K${text}${final ? "\n" : ""}`);
    else if (final) process.stderr.write(`${text}\n`);
  }
}

export function bar(done: number, total: number): string {
  const ratio = total > 0 ? Math.min(1, done / total) : 0;
  const filled = Math.round(ratio * BAR_WIDTH);
  return `[${"#".repeat(filled)}${"-".repeat(BAR_WIDTH - filled)}] ${Math.floor(ratio * 100)}%`;
}

export function uploadLine(
  file: string,
  progress: { bytes: number; totalBytes: number; lines: number; elapsedMs: number },
): string {
  const seconds = Math.max(progress.elapsedMs / 1000, 0.001);
  return (
    `uploading ${file}: ${bar(progress.bytes, progress.totalBytes)} ` +
    `${bytes(progress.bytes)} / ${bytes(progress.totalBytes)} · ${count(progress.lines)} lines · ` +
    `${count(Math.round(progress.lines / seconds))} rows/s`
  );
}
