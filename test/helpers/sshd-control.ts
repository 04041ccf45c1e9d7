import { execFile } from "node:child_process";
import {
  existsSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { type TestSshd, waitForPort } from "@luxrelay/testkit";

// Faults of a test-owned sshd (packages/testkit startSshd) for the SFTP chaos scenarios: the
// server crashed and started again on the same port, one client's sessions killed mid-transfer,
// the SFTP subsystem started with options (requests it refuses). It works on the files
// startSshd keeps next to the user's home (sshd_config, sshd.pid, sshd.log) and only ever
// signals the processes of that server, found from its pid file.

const run = promisify(execFile);
const SSHD = "/usr/sbin/sshd";

export interface SshdControl {
  /**
   * The server crashes: the listener and every session it forked are SIGKILLed, so
   * transfers under way are cut and new connections are refused. Returns how many processes.
   */
  crash(): number;
  /** Starts the server again on the same port, user and host key (`sftpArgs`: internal-sftp's). */
  start(options?: { sftpArgs?: string[] }): Promise<void>;
  /** crash() then start(): a server reconfigured (its SFTP subsystem's options). */
  restart(options?: { sftpArgs?: string[] }): Promise<void>;
  /**
   * SIGKILLs the session processes serving the TCP connections of the process `clientPid` (a
   * worker's SFTP downloads); the listener stays up. Returns how many processes.
   */
  killSessionsOf(clientPid: number): number;
}

export function controlSshd(sshd: TestSshd): SshdControl {
  const dir = dirname(sshd.root);
  const config = join(dir, "sshd_config");
  const pidFile = join(dir, "sshd.pid");
  if (!existsSync(config) || !existsSync(pidFile)) {
    throw new Error(`no sshd_config or sshd.pid in ${dir}: startSshd's layout changed`);
  }
  const listenerPid = () => Number.parseInt(readFileSync(pidFile, "utf8"), 10);

  const control: SshdControl = {
    crash() {
      const pid = listenerPid();
      // Stopped first, so it forks no session between listing its tree and the kills.
      process.kill(pid, "SIGSTOP");
      const tree = [pid, ...descendantsOf(pid)];
      for (const member of tree) killIfAlive(member);
      // A pid file left behind would make startSshd's stop() signal a pid reused since.
      rmSync(pidFile, { force: true });
      return tree.length;
    },
    async start(options = {}) {
      const subsystem = ["Subsystem sftp internal-sftp", ...(options.sftpArgs ?? [])].join(" ");
      const text = readFileSync(config, "utf8").replace(/^Subsystem sftp .*$/m, subsystem);
      writeFileSync(config, text);
      await run(SSHD, ["-t", "-f", config]);
      await run(SSHD, ["-f", config, "-E", join(dir, "sshd.log")]);
      await waitForPort(sshd.port, 10_000);
    },
    async restart(options) {
      control.crash();
      await control.start(options);
    },
    killSessionsOf(clientPid) {
      const clientPorts = new Set<number>();
      const connections = tcpConnections();
      for (const inode of socketInodesOf(clientPid)) {
        const connection = connections.get(inode);
        if (connection?.remotePort === sshd.port) clientPorts.add(connection.localPort);
      }
      let killed = 0;
      for (const pid of descendantsOf(listenerPid())) {
        const serves = socketInodesOf(pid).some((inode) => {
          const connection = connections.get(inode);
          return (
            connection?.localPort === sshd.port && clientPorts.has(connection.remotePort as number)
          );
        });
        if (serves && killIfAlive(pid)) killed++;
      }
      return killed;
    },
  };
  return control;
}

/** A process (or one of its fds) that went while /proc was read. */
function exited(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return code === "ENOENT" || code === "ESRCH";
}

function killIfAlive(pid: number): boolean {
  try {
    process.kill(pid, "SIGKILL");
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ESRCH") return false;
    throw error;
  }
}

/** Every process below `pid` (children, their children ...), from /proc's parent pids. */
function descendantsOf(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${name}/stat`, "utf8");
    } catch (error) {
      if (exited(error)) continue;
      throw error;
    }
    // "pid (comm) state ppid ...": comm may hold spaces and parentheses.
    const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
    children.set(ppid, [...(children.get(ppid) ?? []), Number(name)]);
  }
  const found: number[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    for (const child of children.get(queue.shift() as number) ?? []) {
      found.push(child);
      queue.push(child);
    }
  }
  return found;
}

function socketInodesOf(pid: number): string[] {
  let fds: string[];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch (error) {
    if (exited(error)) return [];
    throw error;
  }
  const inodes: string[] = [];
  for (const fd of fds) {
    try {
      const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (match) inodes.push(match[1] as string);
    } catch (error) {
      if (!exited(error)) throw error;
    }
  }
  return inodes;
}

/** IPv4 TCP sockets by inode (/proc/net/tcp), with their local and remote ports. */
function tcpConnections(): Map<string, { localPort: number; remotePort: number }> {
  const sockets = new Map<string, { localPort: number; remotePort: number }>();
  for (const line of readFileSync("/proc/net/tcp", "utf8").split("\n").slice(1)) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 10) continue;
    const port = (address: string) => Number.parseInt(address.split(":")[1] as string, 16);
    sockets.set(fields[9] as string, {
      localPort: port(fields[1] as string),
      remotePort: port(fields[2] as string),
    });
  }
  return sockets;
}
