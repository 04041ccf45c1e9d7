import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { REPO_ROOT } from "./paths.ts";

// The simulator as its own process, as `npm run sim` starts it: for benchmarks (one core of its
// own, and its memory apart from the measured process) and tests of its command line.
// Resolves once it logs its URL.

export interface SimProcess {
  child: ChildProcess;
  url: string;
  origin: string;
  /** The seed it logged: --seed's, or the one it took. */
  seed: number;
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
  const { url, seed } = await new Promise<{ url: string; seed: number }>((resolve, reject) => {
    lines.on("line", (line) => {
      const record = JSON.parse(line) as { msg?: string; url?: string; seed?: number };
      if (record.msg === "luxsci-sim listening" && record.url) {
        resolve({ url: record.url, seed: Number(record.seed) });
      }
    });
    child.once("exit", (code) => reject(new Error(`luxsci-sim exited (${code}) before listening`)));
  });
  return { child, url, origin: new URL(url).origin, seed, stop: () => child.kill("SIGTERM") };
}
