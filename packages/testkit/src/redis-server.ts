import { rm } from "node:fs/promises";
import { connect } from "node:net";
import { join } from "node:path";
import { makeOwnedDir, type OwnedProcess, spawnOwned, waitUntilReady } from "./owned-process.ts";
import { freePort } from "./sshd.ts";

// A Redis of the test's own, for chaos tests that SIGKILL and restart it mid-send: the
// machine's Redis (127.0.0.1:6379) serves every other test file and must never be stopped,
// restarted or reconfigured. Own port and directory; no RDB snapshots (--save ""), so what
// comes back after a restart is exactly what the AOF kept: everything written more than
// ~1 s before a crash with AOF on (fsync every second), nothing with it off.
// noeviction, as BullMQ requires.

const REDIS_START_TIMEOUT_MS = 10_000;
const PING_TIMEOUT_MS = 1_000;

export interface RedisServerOptions {
  /** AOF with appendfsync everysec (data survives restarts) or no persistence at all. */
  appendonly: boolean;
}

export interface TestRedisServer {
  /** redis://127.0.0.1:<port>, the same across restarts. */
  url: string;
  port: number;
  /** Its directory: redis.log, and appendonlydir/ with AOF on. */
  dir: string;
  /** Starts it again on the same port and directory; resolves once it answers PING. */
  start(): Promise<void>;
  /** SIGTERM: a clean shutdown (the AOF flushed and fsynced). */
  stop(): Promise<void>;
  /** SIGKILL: a crash; only what the AOF already holds comes back. */
  kill(): Promise<void>;
  /** stop() (kill() with crash) then start(). */
  restart(options?: { crash?: boolean }): Promise<void>;
  /** Kills it and removes its directory; call in afterAll. */
  close(): Promise<void>;
}

/** Starts redis-server on a free loopback port; resolves once it answers PING. */
export async function startRedisServer(options: RedisServerOptions): Promise<TestRedisServer> {
  const dir = await makeOwnedDir("redis");
  const port = await freePort();
  const logFile = join(dir, "redis.log");
  const what = `redis-server on port ${port}`;
  const args = [
    "--port",
    String(port),
    "--bind",
    "127.0.0.1",
    "--dir",
    dir,
    "--logfile",
    logFile,
    "--daemonize",
    "no",
    "--save",
    "",
    ...(options.appendonly
      ? ["--appendonly", "yes", "--appendfsync", "everysec"]
      : ["--appendonly", "no"]),
    "--maxmemory-policy",
    "noeviction",
  ];
  let proc: OwnedProcess | undefined;
  let closed = false;

  async function start(): Promise<void> {
    if (closed) throw new Error(`${what} is closed`);
    if (proc?.isRunning()) throw new Error(`${what} is already running`);
    proc = spawnOwned("redis-server", args, { cwd: dir, logFile });
    await waitUntilReady(proc, () => answersPing(port), {
      what,
      logFile,
      timeoutMs: REDIS_START_TIMEOUT_MS,
    });
  }
  const stop = async () => proc?.stop("SIGTERM");
  const kill = async () => proc?.stop("SIGKILL");

  try {
    await start();
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    dir,
    start,
    stop,
    kill,
    async restart(restartOptions = {}) {
      await (restartOptions.crash ? kill() : stop());
      await start();
    },
    async close() {
      closed = true;
      await kill();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * True once the server answers +PONG: not while it refuses connections, nor while it replies
 * -LOADING (replaying the AOF), so a resolved start() has its data back.
 */
function answersPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    let reply = "";
    const finish = (answered: boolean) => {
      socket.destroy();
      resolve(answered);
    };
    socket.setTimeout(PING_TIMEOUT_MS, () => finish(false));
    // Refused or reset: not listening yet, which is what the caller polls for.
    socket.once("error", () => finish(false));
    socket.once("connect", () => socket.write("PING\r\n"));
    socket.on("data", (chunk) => {
      reply += chunk.toString("latin1");
      if (reply.includes("\r\n")) finish(reply.startsWith("+PONG"));
    });
  });
}
