import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { connect, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

// A real OpenSSH sshd on a free loopback port for SFTP tests (shared/notes/sftp-tests.md):
// own host key, own config and pid file, a throwaway system user with a password (LuxSci's
// export logs in with destination_username/destination_password). No chroot: OpenSSH
// refuses chroots under /tmp. `npm run services` installs openssh-server when missing.

const run = promisify(execFile);
const SSHD = "/usr/sbin/sshd";

export interface TestSshd {
  host: string;
  port: number;
  username: string;
  password: string;
  /** The user's home: files uploaded over SFTP land here (and can be read directly). */
  root: string;
  /** Fingerprint of its host key, "SHA256:<base64>" as `ssh-keygen -l` prints it. */
  hostKey: string;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() =>
        typeof address === "object" && address
          ? resolve(address.port)
          : reject(new Error("no port")),
      );
    });
  });
}

/** Resolves once something listens on 127.0.0.1:`port` (an sshd started or started again). */
export async function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, "127.0.0.1");
      socket.once("connect", () => {
        socket.destroy();
        resolve(true);
      });
      socket.once("error", () => resolve(false));
    });
    if (open) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`sshd did not listen on port ${port} within ${timeoutMs} ms`);
}

/** Starts sshd with a fresh SFTP user; call stop() in afterAll. Needs root, as on CI. */
export async function startSshd(): Promise<TestSshd> {
  if (!existsSync(SSHD)) {
    throw new Error(`${SSHD} is missing: run \`npm run services\` (installs openssh-server)`);
  }
  const dir = await mkdtemp(join(tmpdir(), "lr-sshd-"));
  const username = `lrsftp${randomBytes(3).toString("hex")}`;
  const password = randomBytes(12).toString("base64url");
  const root = join(dir, "home");
  const port = await freePort();
  await mkdir(root, { recursive: true });
  // mkdtemp makes the folder 0700; the SFTP user must be able to reach its home inside it.
  await chmod(dir, 0o755);
  await mkdir("/run/sshd", { recursive: true });
  await run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", join(dir, "host_key")]);
  // "256 SHA256:<base64> comment (ED25519)"
  const listed = await run("ssh-keygen", ["-l", "-E", "sha256", "-f", join(dir, "host_key.pub")]);
  const hostKey = listed.stdout.split(" ")[1] ?? "";
  await run("useradd", ["-M", "-d", root, "-s", "/usr/sbin/nologin", username]);
  const cleanupUser = () => run("userdel", [username]).catch(() => undefined);
  try {
    await run("chown", [`${username}:`, root]);
    await new Promise<void>((resolve, reject) => {
      const child = execFile("chpasswd", (error) => (error ? reject(error) : resolve()));
      child.stdin?.end(`${username}:${password}\n`);
    });
    const config = join(dir, "sshd_config");
    await writeFile(
      config,
      [
        `Port ${port}`,
        "ListenAddress 127.0.0.1",
        `HostKey ${join(dir, "host_key")}`,
        `PidFile ${join(dir, "sshd.pid")}`,
        "PasswordAuthentication yes",
        "KbdInteractiveAuthentication no",
        "UsePAM yes",
        "PermitRootLogin no",
        `AllowUsers ${username}`,
        "Subsystem sftp internal-sftp",
        "LogLevel ERROR",
        "",
      ].join("\n"),
    );
    await run(SSHD, ["-t", "-f", config]);
    await run(SSHD, ["-f", config, "-E", join(dir, "sshd.log")]);
    await waitForPort(port, 10_000);
  } catch (error) {
    await cleanupUser();
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    host: "127.0.0.1",
    port,
    username,
    password,
    root,
    hostKey,
    async stop() {
      const pid = Number.parseInt(
        await readFile(join(dir, "sshd.pid"), "utf8").catch(() => ""),
        10,
      );
      if (pid > 0) {
        try {
          process.kill(pid, "SIGTERM");
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== "ESRCH") throw error;
        }
      }
      await cleanupUser();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
