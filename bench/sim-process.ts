import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { REPO_ROOT } from "@luxrelay/testkit";

// The simulator as its own process for benchmarks (one core of its own, and its memory apart
// from the measured process). Resolves once it logs its URL.

export interface SimProcess {
  child: ChildProcess;
  url: string;
  origin: string;
  stop(): void;
}

export async function startSimulatorProcess(args: string[] = []): Promise<SimProcess> {
  const child = spawn(
    process.execPath,
    [
      "--expose-gc",
      "--import",
      "tsx",
      join(REPO_ROOT, "apps/luxsci-sim/src/main.ts"),
      "--port",
      "0",
      ...args,
    ],
    { cwd: join(REPO_ROOT, "apps/luxsci-sim"), stdio: ["ignore", "pipe", "inherit"] },
  );
  // Its log keeps being read (and dropped) so a full pipe never blocks it.
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  const url = await new Promise<string>((resolve, reject) => {
    lines.on("line", (line) => {
      const record = JSON.parse(line) as { msg?: string; url?: string };
      if (record.msg === "luxsci-sim listening" && record.url) resolve(record.url);
    });
    child.once("exit", (code) => reject(new Error(`luxsci-sim exited (${code}) before listening`)));
  });
  return { child, url, origin: new URL(url).origin, stop: () => child.kill("SIGTERM") };
}
