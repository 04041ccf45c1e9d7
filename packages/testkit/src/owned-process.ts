import { type ChildProcess, execFile, spawn } from "node:child_process";
import { closeSync, openSync } from "node:fs";
import { lstat, mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

// Servers a test owns (its own Redis, its own PostgreSQL cluster, which chaos tests kill and
// restart) run as children of the test process and must die with it however it ends. Three
// layers: close() in the test; an 'exit' hook that SIGKILLs what a failed test left running;
// and PR_SET_PDEATHSIG (`setpriv --pdeathsig`), which the kernel honours even when the test
// process is itself SIGKILLed and no hook runs. Their directories carry the owner's pid, so
// the next run sweeps the ones a killed run left behind.

const run = promisify(execFile);
const SETPRIV = "/usr/bin/setpriv";
const STOP_TIMEOUT_MS = 15_000;
const READY_POLL_MS = 25;
const LOG_TAIL_CHARS = 2_000;
const OWNED_DIR_PATTERN = /^lr-(?:redis|pg)-(\d+)-/;

/**
 * The children's whole environment: the test's PG* variables (PGHOST, PGPORT, PGDATA) would
 * otherwise point the PostgreSQL tools at the machine's cluster.
 */
export const CHILD_ENV = { PATH: "/usr/local/bin:/usr/bin:/bin", LC_ALL: "C" };

export interface OwnedProcess {
  readonly pid: number | undefined;
  /** Settles (never rejects) once the process has exited or failed to spawn, saying how. */
  readonly exited: Promise<string>;
  isRunning(): boolean;
  /** Sends the signal and waits for the exit; SIGKILLs and throws if that takes too long. */
  stop(signal: NodeJS.Signals): Promise<void>;
}

const liveChildren = new Set<ChildProcess>();
let exitHookInstalled = false;
let sweep: Promise<void> | undefined;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Synchronous only: the directories are left to the next run's sweep.
  process.once("exit", () => {
    for (const child of liveChildren) child.kill("SIGKILL");
  });
}

/** `command args` run through setpriv: dies with this process; as `user` when given (root only). */
export function ownedCommand(
  command: string,
  args: string[],
  user: string | undefined,
): [string, string[]] {
  const asUser = user ? [`--reuid=${user}`, `--regid=${user}`, "--init-groups"] : [];
  return [SETPRIV, [...asUser, "--pdeathsig=KILL", "--", command, ...args]];
}

/** Runs a short command (initdb) to completion, tied to this process like the servers. */
export async function runOwned(
  command: string,
  args: string[],
  options: { cwd: string; user: string | undefined },
): Promise<void> {
  const [file, fileArgs] = ownedCommand(command, args, options.user);
  await run(file, fileArgs, { cwd: options.cwd, env: CHILD_ENV });
}

/** Spawns a long-running server with stdout and stderr appended to logFile. */
export function spawnOwned(
  command: string,
  args: string[],
  options: { cwd: string; logFile: string; user?: string | undefined },
): OwnedProcess {
  installExitHook();
  const [file, fileArgs] = ownedCommand(command, args, options.user);
  const log = openSync(options.logFile, "a");
  let child: ChildProcess;
  try {
    child = spawn(file, fileArgs, {
      cwd: options.cwd,
      env: CHILD_ENV,
      stdio: ["ignore", log, log],
    });
  } finally {
    closeSync(log);
  }
  let running = true;
  liveChildren.add(child);
  const exited = new Promise<string>((resolve) => {
    child.once("error", (error) => {
      running = false;
      liveChildren.delete(child);
      resolve(`failed to spawn (${error.message})`);
    });
    child.once("exit", (code, signal) => {
      running = false;
      liveChildren.delete(child);
      resolve(code === null ? `was killed by ${signal}` : `exited with code ${code}`);
    });
  });
  // A server a test forgot to close must not keep the worker alive: the exit hook kills it.
  child.unref();
  return {
    pid: child.pid,
    exited,
    isRunning: () => running,
    async stop(signal) {
      if (!running) return;
      child.ref();
      child.kill(signal);
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        child.kill("SIGKILL");
      }, STOP_TIMEOUT_MS);
      await exited;
      clearTimeout(timer);
      if (timedOut) {
        throw new Error(`pid ${child.pid} ignored ${signal} for ${STOP_TIMEOUT_MS} ms: SIGKILLed`);
      }
    },
  };
}

/**
 * Polls isReady until it says yes. Fails with the log's tail when the process exits first,
 * and SIGKILLs it when the time runs out.
 */
export async function waitUntilReady(
  proc: OwnedProcess,
  isReady: () => Promise<boolean>,
  options: { what: string; logFile: string; timeoutMs: number },
): Promise<void> {
  let exit: string | undefined;
  void proc.exited.then((how) => {
    exit = how;
  });
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    const ready = await isReady();
    if (exit !== undefined) {
      throw new Error(
        `${options.what} ${exit} before it was ready:\n${await logTail(options.logFile)}`,
      );
    }
    if (ready) return;
    if (Date.now() > deadline) {
      await proc.stop("SIGKILL");
      throw new Error(
        `${options.what} was not ready within ${options.timeoutMs} ms:\n${await logTail(options.logFile)}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, READY_POLL_MS));
  }
}

async function logTail(logFile: string): Promise<string> {
  const text = await readFile(logFile, "utf8").catch(
    (error: Error) => `(log unreadable: ${error.message})`,
  );
  return text.slice(-LOG_TAIL_CHARS);
}

/** A fresh directory under os.tmpdir() named after this process (lr-<kind>-<pid>-…). */
export async function makeOwnedDir(kind: "redis" | "pg"): Promise<string> {
  sweep ??= sweepLeftDirs();
  await sweep;
  return mkdtemp(join(tmpdir(), `lr-${kind}-${process.pid}-`));
}

/** Removes the directories of test processes that are gone (killed before their close()). */
async function sweepLeftDirs(): Promise<void> {
  const uid = process.getuid?.();
  for (const name of await readdir(tmpdir())) {
    const pid = Number(OWNED_DIR_PATTERN.exec(name)?.[1] ?? 0);
    if (pid === 0 || isAlive(pid)) continue;
    const path = join(tmpdir(), name);
    const stat = await lstat(path).catch((error: NodeJS.ErrnoException) => {
      if (error.code === "ENOENT") return undefined; // another worker swept it first
      throw error;
    });
    // Another user's directory is not ours to remove (and we could not).
    if (stat?.uid !== uid) continue;
    await rm(path, { recursive: true, force: true });
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, under another user.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
