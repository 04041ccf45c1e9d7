import { mkdir } from "node:fs/promises";
import { dirname, posix } from "node:path";
import SftpClient from "ssh2-sftp-client";

// Seed 000 inbound steps 4-5: download the export LuxSci wrote to our SFTP server into the
// state results folder, then delete it there. Credentials come decrypted from the channel
// and never reach a log line or an error message.

export interface SftpLocation {
  host: string;
  port: number;
  user: string;
  password: string;
  directory: string;
}

export class SftpError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SftpError";
  }
}

export async function downloadAndDelete(
  location: SftpLocation,
  filename: string,
  localPath: string,
): Promise<void> {
  const remotePath = posix.join(location.directory || ".", filename);
  const where = `sftp://${location.user}@${location.host}:${location.port}/${remotePath.replace(/^\//, "")}`;
  const sftp = new SftpClient("luxrelay-inbound");
  await mkdir(dirname(localPath), { recursive: true });
  try {
    await sftp.connect({
      host: location.host,
      port: location.port,
      username: location.user,
      password: location.password,
      readyTimeout: 15_000,
    });
    await sftp.fastGet(remotePath, localPath);
    await sftp.delete(remotePath);
  } catch (error) {
    const reason = (error as Error).message.replaceAll(location.password, "***");
    throw new SftpError(`SFTP download of ${where} failed: ${reason}`);
  } finally {
    await sftp.end().catch(() => undefined);
  }
}
