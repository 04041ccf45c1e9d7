import { createHash } from "node:crypto";
import { mkdir, rename, rm, stat } from "node:fs/promises";
import { dirname, posix } from "node:path";
import SftpClient from "ssh2-sftp-client";

// Seed 000 inbound steps 4-5: download the export LuxSci wrote to our SFTP server into the
// state results folder, then delete it there. Credentials come decrypted from the channel
// and never reach a log line or an error message.
//
// Only a whole file is ever found under the name the import reads: the download goes to a
// `.part` name and is renamed once its size matches what the server reports for the file,
// before and after the transfer (a connection cut mid-download, or a file still growing,
// leaves nothing the import could take for a report). A server that stops answering
// mid-download is given up after `timeoutMs` (unanswered keepalives), so the step fails and is
// retried rather than holding an export slot forever. Deleting the remote file is best effort:
// a refusal (no write permission on the folder) is reported, never a reason not to import.
//
// The server must show the host key pinned for the channel (its SHA256 fingerprint, as
// `ssh-keygen -l` prints it) before the password is sent: a server that answers at the
// channel's address with another key is refused. Only the connectivity test connects with no
// pinned key (probeSftp), to learn it.

/** How long an SFTP server may stay silent (connecting or mid-transfer) before it is given up. */
export const SFTP_TIMEOUT_MS = 30_000;
/** Keepalives sent, `timeoutMs / KEEPALIVE_PROBES` apart, before a silent server is given up. */
const KEEPALIVE_PROBES = 3;

export interface SftpLocation {
  host: string;
  port: number;
  user: string;
  password: string;
  directory: string;
  /** Pinned fingerprint of the server's host key ("SHA256:<base64>"); null: none yet. */
  hostKey: string | null;
}

export class SftpError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SftpError";
  }
}

/** The server's host key is not the pinned one (or none is pinned): nothing was sent to it. */
export class SftpHostKeyError extends SftpError {
  constructor(
    message: string,
    readonly presented: string | null,
    readonly expected: string | null,
  ) {
    super(message);
    this.name = "SftpHostKeyError";
  }
}

/** The export's file is neither on the SFTP server nor downloaded: it can't be imported. */
export class SftpFileMissingError extends SftpError {
  constructor(message: string) {
    super(message);
    this.name = "SftpFileMissingError";
  }
}

export interface DownloadedFile {
  /** Size of the local file, equal to the remote file's. */
  bytes: number;
  /** Why the remote file could not be deleted (it stays there); null once it is gone. */
  deleteError: string | null;
}

const ignore = () => undefined;

/** "SHA256:<base64, unpadded>" of a raw SSH public key, as `ssh-keygen -l -E sha256` prints. */
export function hostKeyFingerprint(key: Buffer): string {
  return `SHA256:${createHash("sha256").update(key).digest("base64").replace(/=+$/, "")}`;
}

/**
 * Connects `sftp` to the location, checking the server's host key against `expected` before
 * any credential is sent (null accepts any key: the connectivity test's first connection).
 * Returns the fingerprint the server showed. The password is masked in every message.
 */
async function connectPinned(
  sftp: SftpClient,
  location: SftpLocation,
  expected: string | null,
  timeoutMs: number,
): Promise<string> {
  const server = `${location.host}:${location.port}`;
  let presented: string | null = null;
  try {
    await sftp.connect({
      host: location.host,
      port: location.port,
      username: location.user,
      password: location.password,
      readyTimeout: timeoutMs,
      keepaliveInterval: Math.max(1, Math.round(timeoutMs / KEEPALIVE_PROBES)),
      keepaliveCountMax: KEEPALIVE_PROBES,
      retries: 0,
      hostVerifier: (key: Buffer) => {
        presented = hostKeyFingerprint(key);
        return expected === null || presented === expected;
      },
    });
  } catch (error) {
    if (presented !== null && expected !== null && presented !== expected) {
      throw new SftpHostKeyError(
        `SFTP server ${server} presented host key ${presented}, not the pinned ${expected}: refused before logging in (if the server's key was changed on purpose, set the channel's sftpHostKey to the new fingerprint)`,
        presented,
        expected,
      );
    }
    throw new SftpError(
      `SFTP connection for sftp://${location.user}@${server} failed: ${maskPassword(error, location)}`,
    );
  }
  return presented ?? "";
}

function maskPassword(error: unknown, location: SftpLocation): string {
  return (error instanceof Error ? error.message : String(error)).replaceAll(
    location.password,
    "***",
  );
}

/**
 * Logs in to the location and looks at its folder (the connectivity test), checking the host
 * key against `location.hostKey` or, when none is pinned yet, accepting the one shown.
 * Returns that key's fingerprint, for the caller to pin. Throws SftpError / SftpHostKeyError.
 */
export async function probeSftp(
  location: SftpLocation,
  options: { timeoutMs?: number } = {},
): Promise<{ hostKey: string }> {
  const sftp = new SftpClient("luxrelay-test", { error: ignore, end: ignore, close: ignore });
  try {
    const hostKey = await connectPinned(
      sftp,
      location,
      location.hostKey,
      options.timeoutMs ?? SFTP_TIMEOUT_MS,
    );
    const folder = location.directory || ".";
    const kind = await sftp.exists(folder).catch((error: unknown) => {
      throw new SftpError(`SFTP folder ${folder}: ${maskPassword(error, location)}`);
    });
    if (kind !== "d") throw new SftpError(`SFTP folder ${folder} is not on the server`);
    return { hostKey };
  } finally {
    await sftp.end().catch(() => undefined);
  }
}

async function localSize(path: string): Promise<number | null> {
  try {
    return (await stat(path)).size;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw error;
  }
}

/**
 * Downloads `filename` from the location's folder to `localPath`, checked against the
 * server's size, then deletes it on the server (best effort). A `localPath` already there is a
 * download an earlier attempt checked and renamed before it died: it is kept, and only the
 * remote delete is tried again. Throws SftpError (SftpFileMissingError when the server has no
 * such file) and leaves no file at `localPath` when the download is not whole.
 */
export async function downloadReportFile(
  location: SftpLocation,
  filename: string,
  localPath: string,
  options: { timeoutMs?: number } = {},
): Promise<DownloadedFile> {
  const timeoutMs = options.timeoutMs ?? SFTP_TIMEOUT_MS;
  const remotePath = posix.join(location.directory || ".", filename);
  const where = `sftp://${location.user}@${location.host}:${location.port}/${remotePath.replace(/^\//, "")}`;
  const clean = (error: unknown) => maskPassword(error, location);
  if (!location.hostKey) {
    throw new SftpHostKeyError(
      `SFTP server ${location.host}:${location.port} has no pinned host key: not connecting (run the channel's connectivity test to learn it, or set its sftpHostKey)`,
      null,
      null,
    );
  }
  await mkdir(dirname(localPath), { recursive: true });
  // A connection that drops also fails the call under way, which reports it (with the
  // password masked); the library's default listeners would print it to the console as well.
  const sftp = new SftpClient("luxrelay-inbound", { error: ignore, end: ignore, close: ignore });
  try {
    await connectPinned(sftp, location, location.hostKey, timeoutMs);
    let bytes = await localSize(localPath);
    if (bytes === null) bytes = await fetchWhole(sftp, remotePath, localPath, where, clean);
    let deleteError: string | null = null;
    try {
      await sftp.delete(remotePath);
    } catch (error) {
      // Gone already (an earlier attempt deleted it, then died) is what was wanted.
      if ((error as { code?: unknown }).code !== "ENOENT") deleteError = clean(error);
    }
    return { bytes, deleteError };
  } finally {
    await sftp.end().catch(() => undefined);
  }
}

/** Downloads to `<localPath>.part`, checks the size against the server's, renames. */
async function fetchWhole(
  sftp: SftpClient,
  remotePath: string,
  localPath: string,
  where: string,
  clean: (error: unknown) => string,
): Promise<number> {
  const partPath = `${localPath}.part`;
  const remoteSize = async () => {
    try {
      return (await sftp.stat(remotePath)).size;
    } catch (error) {
      if ((error as { code?: unknown }).code === "ENOENT") {
        throw new SftpFileMissingError(`${where} is not on the SFTP server`);
      }
      throw new SftpError(`SFTP stat of ${where} failed: ${clean(error)}`);
    }
  };
  const before = await remoteSize();
  try {
    await sftp.fastGet(remotePath, partPath);
  } catch (error) {
    await rm(partPath, { force: true });
    throw new SftpError(`SFTP download of ${where} failed: ${clean(error)}`);
  }
  const got = (await localSize(partPath)) ?? 0;
  const after = await remoteSize();
  if (got !== before || after !== before) {
    await rm(partPath, { force: true });
    throw new SftpError(
      `SFTP download of ${where} incomplete: ${got} bytes received, the server had ${before} before and ${after} after`,
    );
  }
  await rename(partPath, localPath);
  return got;
}
