import { type ChildProcess, spawn } from "node:child_process";
import { createConnection } from "node:net";
import { fileURLToPath } from "node:url";

// The demo's child processes: each app as a real process (node + tsx), its log lines kept
// for a post-mortem and echoed when it dies unexpectedly.

const REPO_ROOT = fileURLToPath(new URL("../../../", import.meta.url));

export interface AppProcess {
  name: string;
  child: ChildProcess;
  log(): string;
  stop(): Promise<void>;
}

export function startApp(
  name: string,
  app: string,
  args: string[],
  env: Record<string, string>,
): AppProcess {
  const child = spawn(process.execPath, ["--import", "tsx", `apps/${app}/src/main.ts`, ...args], {
    cwd: REPO_ROOT,
    // biome-ignore lint/style/noProcessEnv: the demo hands its environment (PATH, DATABASE_URL...) to the apps it starts.
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const lines: string[] = [];
  const keep = (chunk: Buffer) => {
    lines.push(...chunk.toString().split("\n").filter(Boolean));
    if (lines.length > 200) lines.splice(0, lines.length - 200);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  let stopping = false;
  child.once("exit", (code, signal) => {
    if (!stopping) {
      process.stderr.write(
        `\n[demo] ${name} exited (${signal ?? code}); its last lines:\n${lines.slice(-15).join("\n")}\n`,
      );
    }
  });
  return {
    name,
    child,
    log: () => lines.join("\n"),
    stop() {
      stopping = true;
      if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
      return new Promise((resolve) => {
        const force = setTimeout(() => child.kill("SIGKILL"), 15_000);
        child.once("exit", () => {
          clearTimeout(force);
          resolve();
        });
        child.kill("SIGTERM");
      });
    },
  };
}

/** True when something already listens on host:port. */
export function portInUse(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host, port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

/** Polls url until it answers 2xx (or the process dies, or time runs out). */
export async function waitForHttp(url: string, app: AppProcess, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (app.child.exitCode !== null) throw new Error(`${app.name} exited before it was ready`);
    // Refused connections mean "not listening yet".
    const response = await fetch(url).catch(() => null);
    if (response?.ok) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`${app.name} did not answer ${url} within ${timeoutMs / 1000} s`);
}
