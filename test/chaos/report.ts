import { existsSync, readFileSync, rmSync } from "node:fs";
import type { Reporter } from "vitest/node";
import { type ChaosFigures, RESULTS_FILE } from "./helpers.ts";

// The chaos suite's closing table: one row per scenario this run recorded (recordFigures), in
// the shape docs/reliability.md keeps. The file starts empty each run.
export default class ChaosReporter implements Reporter {
  onInit(): void {
    rmSync(RESULTS_FILE, { force: true });
  }

  onTestRunEnd(): void {
    if (!existsSync(RESULTS_FILE)) return;
    const rows = readFileSync(RESULTS_FILE, "utf8")
      .split("\n")
      .filter(Boolean)
      .map((line) => JSON.parse(line) as ChaosFigures);
    const header =
      "| scenario | injected | recipients | duplicates | lost | status | retried batches | retried batch, first claim to sent (p50 / max s) | run (s) | notes |";
    const lines = rows.map(
      (r) =>
        `| ${r.scenario} | ${r.injected} | ${r.recipients} | ${r.duplicates} | ${r.lost} | ${r.status} | ${r.retriedBatches} | ${r.retriedBatchSecondsP50 ?? "-"} / ${r.retriedBatchSecondsMax ?? "-"} | ${r.seconds} | ${r.notes ?? ""} |`,
    );
    process.stdout.write(
      `\nchaos figures (${RESULTS_FILE}):\n\n${header}\n|${" --- |".repeat(10)}\n${lines.join("\n")}\n`,
    );
  }
}
