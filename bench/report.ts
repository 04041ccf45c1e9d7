import { readFileSync, writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { join } from "node:path";
import { REPO_ROOT } from "@luxrelay/testkit";

// Every benchmark writes its figures into its own section of BENCHMARKS.md, replacing the
// previous run's, with the machine and the command that produced them.

const FILE = join(REPO_ROOT, "BENCHMARKS.md");
const HEADER =
  "# Benchmarks\n\nFigures measured by the scripts in `bench/`; each section is rewritten by its script.\n";

export function machine(): string {
  const cpu = cpus();
  return `${cpu.length} cores (${cpu[0]?.model.trim() ?? "unknown"}), ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
}

export function writeBenchmarkSection(title: string, command: string, lines: string[]): void {
  let text: string;
  try {
    text = readFileSync(FILE, "utf8");
  } catch {
    text = HEADER;
  }
  const section = [
    `## ${title}`,
    "",
    `- command: \`${command}\``,
    `- machine: ${machine()}`,
    `- date: ${new Date().toISOString().slice(0, 10)}`,
    ...lines.map((line) => `- ${line}`),
    "",
  ].join("\n");
  const pattern = new RegExp(
    `## ${title.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\\n[\\s\\S]*?(?=\\n## |$)`,
  );
  text = pattern.test(text)
    ? text.replace(pattern, `${section.trimEnd()}\n`)
    : `${text.trimEnd()}\n\n${section}`;
  writeFileSync(FILE, `${text.trimEnd()}\n`);
}
