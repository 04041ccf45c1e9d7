import { execFile } from "node:child_process";
import { appendFile, chmod, mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import pg from "pg";
import { withDatabase } from "./database.ts";
import {
  CHILD_ENV,
  makeOwnedDir,
  type OwnedProcess,
  spawnOwned,
  waitUntilReady,
} from "./owned-process.ts";
import { findPostgres, giveToClusterUser, templateDataDir } from "./postgres-template.ts";
import { freePort } from "./sshd.ts";

// A PostgreSQL cluster of the test's own, for chaos tests that stop it (immediate: a crash,
// no checkpoint) and start it again mid-send: the machine's cluster (127.0.0.1:5432) serves
// every other test file and must never be stopped, restarted or reconfigured. Own data
// directory, port and socket directory; trust auth (it listens on loopback only); fsync on,
// as the crash tests check that committed rows survive. The postmaster is spawned directly
// rather than by `pg_ctl start`, which detaches it (setsid) so that a killed test run would
// leave it running; stop() sends the signals of pg_ctl's shutdown modes.

const run = promisify(execFile);
const PG_START_TIMEOUT_MS = 30_000;
const DATABASE_NAME = /^[a-z_][a-z0-9_]{0,62}$/;
const SHUTDOWN_SIGNALS = { fast: "SIGINT", immediate: "SIGQUIT" } as const;

export type PostgresStopMode = keyof typeof SHUTDOWN_SIGNALS;

export interface TestPostgresCluster {
  /** postgresql://postgres@127.0.0.1:<port>/postgres, the same across restarts. */
  url: string;
  port: number;
  /** Its directory: data/, socket/ and postgres.log. */
  dir: string;
  /** Creates an empty database and returns its URL. */
  createDatabase(name: string): Promise<string>;
  /** fast (default): clients cut, checkpoint; immediate: a crash, recovery from WAL at start. */
  stop(options?: { mode?: PostgresStopMode }): Promise<void>;
  /** Starts it again on the same port and data; resolves once pg_isready says it accepts. */
  start(): Promise<void>;
  restart(options?: { mode?: PostgresStopMode }): Promise<void>;
  /** Stops it (immediate) and removes its directory; call in afterAll. */
  close(): Promise<void>;
}

/** A fresh cluster (a copy of an initdb'd template) on a free loopback port, started. */
export async function startPostgresCluster(): Promise<TestPostgresCluster> {
  const install = await findPostgres();
  const template = await templateDataDir(install);
  const dir = await makeOwnedDir("pg");
  const dataDir = join(dir, "data");
  const socketDir = join(dir, "socket");
  const logFile = join(dir, "postgres.log");
  const port = await freePort();
  const url = `postgresql://postgres@127.0.0.1:${port}/postgres`;
  const what = `postgres on port ${port}`;
  let proc: OwnedProcess | undefined;
  let closed = false;

  async function start(): Promise<void> {
    if (closed) throw new Error(`${what} is closed`);
    if (proc?.isRunning()) throw new Error(`${what} is already running`);
    proc = spawnOwned(join(install.binDir, "postgres"), ["-D", dataDir], {
      cwd: dir,
      logFile,
      user: install.user,
    });
    await waitUntilReady(proc, () => acceptsConnections(install.binDir, port), {
      what,
      logFile,
      timeoutMs: PG_START_TIMEOUT_MS,
    });
  }
  async function stop(options: { mode?: PostgresStopMode } = {}): Promise<void> {
    await proc?.stop(SHUTDOWN_SIGNALS[options.mode ?? "fast"]);
  }

  try {
    // The cluster user passes through the root-owned directory to its data and socket.
    await chmod(dir, 0o711);
    await run("cp", ["-a", template, dataDir]);
    await mkdir(socketDir, { mode: 0o700 });
    await giveToClusterUser(socketDir, install.user);
    await appendFile(
      join(dataDir, "postgresql.conf"),
      [
        "",
        "# luxrelay testkit: a throwaway cluster of one test file",
        "listen_addresses = '127.0.0.1'",
        `port = ${port}`,
        `unix_socket_directories = '${socketDir}'`,
        "shared_buffers = 16MB",
        "max_connections = 50",
        "fsync = on",
        "synchronous_commit = on",
        "logging_collector = off",
        "",
      ].join("\n"),
    );
    await start();
  } catch (error) {
    await proc?.stop("SIGKILL");
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    url,
    port,
    dir,
    async createDatabase(name) {
      if (!DATABASE_NAME.test(name)) throw new Error(`not a plain database name: ${name}`);
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        await client.query(`CREATE DATABASE "${name}"`);
      } finally {
        await client.end();
      }
      return withDatabase(url, name);
    },
    stop,
    start,
    async restart(options = {}) {
      await stop(options);
      await start();
    },
    async close() {
      closed = true;
      await stop({ mode: "immediate" });
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** pg_isready's exit code: 0 accepting; 1 rejecting (starting, recovering); 2 no answer. */
async function acceptsConnections(binDir: string, port: number): Promise<boolean> {
  const args = ["-h", "127.0.0.1", "-p", String(port), "-U", "postgres", "-d", "postgres", "-q"];
  return run(join(binDir, "pg_isready"), [...args, "-t", "2"], { env: CHILD_ENV }).then(
    () => true,
    (error: { code?: unknown }) => {
      if (typeof error.code === "number") return false;
      throw error;
    },
  );
}
