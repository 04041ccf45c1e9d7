import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { chmod, mkdir, readdir, rename, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { CHILD_ENV, makeOwnedDir, runOwned } from "./owned-process.ts";

// What startPostgresCluster builds on: the installed server's binaries, the OS user the
// cluster runs as (initdb and postgres refuse root, so root's tests run it as `postgres`),
// and an initdb'd data directory to copy. initdb takes ~0.8 s on an idle machine and
// seconds on a busy 2-core runner, `cp -a` of its result ~0.1 s: the template is made once
// per machine under os.tmpdir(), keyed by the server version, the initdb arguments and the
// user, and every cluster starts as a copy of it.

const run = promisify(execFile);
const POSTGRES_LIB = "/usr/lib/postgresql";
/** Superuser "postgres" whoever runs initdb, so URLs are the same as root and as a user. */
const INITDB_ARGS = [
  "--username=postgres",
  "--auth=trust",
  "--encoding=UTF8",
  "--locale=C",
  "--no-sync",
  "--no-instructions",
];

export interface PostgresInstall {
  binDir: string;
  /** `postgres --version`, e.g. "postgres (PostgreSQL) 15.20 (Debian 15.20-0+deb12u1)". */
  version: string;
  /** The OS user the cluster runs as; undefined: the current (non-root) user. */
  user: string | undefined;
}

let install: Promise<PostgresInstall> | undefined;
/** Builds in flight, so the test files of one worker share one initdb. */
const builds = new Map<string, Promise<string>>();

/** The newest server under /usr/lib/postgresql (else `pg_config --bindir`'s). */
export function findPostgres(): Promise<PostgresInstall> {
  install ??= (async () => {
    const versions = existsSync(POSTGRES_LIB)
      ? (await readdir(POSTGRES_LIB))
          .filter((name) => existsSync(join(POSTGRES_LIB, name, "bin", "initdb")))
          .sort((a, b) => Number.parseFloat(b) - Number.parseFloat(a))
      : [];
    const binDir = versions[0]
      ? join(POSTGRES_LIB, versions[0], "bin")
      : (await run("pg_config", ["--bindir"], { env: CHILD_ENV })).stdout.trim();
    const { stdout } = await run(join(binDir, "postgres"), ["--version"], { env: CHILD_ENV });
    return {
      binDir,
      version: stdout.trim(),
      user: process.getuid?.() === 0 ? "postgres" : undefined,
    };
  })();
  return install;
}

/** Makes `dir` (created by root) the cluster user's, so postgres can write in it. */
export async function giveToClusterUser(dir: string, user: string | undefined): Promise<void> {
  if (user) await run("chown", [`${user}:`, dir]);
}

/** The path of an initdb'd data directory for this install, made on first use. */
export async function templateDataDir(pg: PostgresInstall): Promise<string> {
  const key = createHash("sha256")
    .update(JSON.stringify([pg.version, INITDB_ARGS, pg.user ?? process.getuid?.()]))
    .digest("hex")
    .slice(0, 12);
  const path = join(tmpdir(), `lr-pg-template-${key}`);
  if (existsSync(path)) return path;
  let build = builds.get(path);
  if (!build) {
    build = buildTemplate(pg, path).finally(() => builds.delete(path));
    builds.set(path, build);
  }
  return build;
}

async function buildTemplate(pg: PostgresInstall, path: string): Promise<string> {
  const base = await makeOwnedDir("pg");
  try {
    const data = join(base, "data");
    // The cluster user may pass through (not list) the root-owned base to its own data dir.
    await chmod(base, 0o711);
    await mkdir(data, { mode: 0o700 });
    await giveToClusterUser(data, pg.user);
    await runOwned(join(pg.binDir, "initdb"), ["-D", data, ...INITDB_ARGS], {
      cwd: base,
      user: pg.user,
    });
    // Published whole by a rename; test files in parallel may race here, and the loser's
    // copy is thrown away.
    await rename(data, path).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== "ENOTEMPTY" && error.code !== "EEXIST") throw error;
    });
    return path;
  } finally {
    await rm(base, { recursive: true, force: true });
  }
}
