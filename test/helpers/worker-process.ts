import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { REPO_ROOT } from "@luxrelay/testkit";

// A worker as a real process (`apps/worker/src/main.ts` under tsx), for tests that kill it.

export interface WorkerChild {
  child: ChildProcess;
  /** Resolves with the exit code or signal. */
  exited: Promise<number | NodeJS.Signals | null>;
  output(): string;
}

export function spawnWorker(env: Record<string, string>): WorkerChild {
  const child = spawn(
    process.execPath,
    ["--import", "tsx", join(REPO_ROOT, "apps/worker/src/main.ts")],
    {
      cwd: join(REPO_ROOT, "apps/worker"),
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  const exited = new Promise<number | NodeJS.Signals | null>((resolve) => {
    child.once("exit", (code, signal) => resolve(signal ?? code));
  });
  return { child, exited, output: () => output };
}
