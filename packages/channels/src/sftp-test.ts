import { decryptChannelSecret, type PrismaClient, SecretDecryptionError } from "@luxrelay/db";
import { probeSftp, SFTP_TIMEOUT_MS, SftpError, SftpHostKeyError } from "./sftp.ts";

// The SFTP half of a channel's connectivity test (`luxrelay channel test`): log in to the
// channel's SFTP destination and look at its folder. The server's host key is pinned here:
// with none stored yet, the key the server shows is learned (trust on first use, by an
// operator who just set the channel up); from then on, and in every export download, any
// other key is refused.

export interface SftpTestDeps {
  prisma: PrismaClient;
  secretKey: Buffer;
  previousSecretKeys?: readonly Buffer[];
  timeoutMs?: number;
}

export type SftpTestResult =
  | { ok: true; ms: number; hostKey: string; learned: boolean }
  | {
      ok: false;
      ms: number;
      error: string;
      /** The key the server showed, when it was refused for it. */
      hostKey?: string;
      /** The key pinned for the channel, when the server showed another. */
      expectedHostKey?: string;
    };

/** Tests the channel's SFTP destination; null when the channel has none (no sftpHost). */
export async function testChannelSftp(
  deps: SftpTestDeps,
  channelId: string,
): Promise<SftpTestResult | null> {
  const channel = await deps.prisma.channel.findUnique({ where: { id: channelId } });
  if (!channel?.sftpHost) return null;
  const started = performance.now();
  const ms = () => Math.round(performance.now() - started);
  if (!channel.sftpUser || !channel.sftpPasswordEnc) {
    return { ok: false, ms: ms(), error: "the channel has no sftpUser or sftpPassword" };
  }
  const keys = [deps.secretKey, ...(deps.previousSecretKeys ?? [])];
  try {
    const { hostKey } = await probeSftp(
      {
        host: channel.sftpHost,
        port: channel.sftpPort,
        user: channel.sftpUser,
        password: decryptChannelSecret(
          "sftpPasswordEnc",
          channel.sftpPasswordEnc,
          channel.id,
          keys,
        ),
        directory: channel.sftpDirectory ?? ".",
        hostKey: channel.sftpHostKey,
      },
      { timeoutMs: deps.timeoutMs ?? SFTP_TIMEOUT_MS },
    );
    if (channel.sftpHostKey) return { ok: true, ms: ms(), hostKey, learned: false };
    // Pinned only if the destination is still the one tested: a PATCH in between that moved
    // it (and cleared the key) must not get this server's key.
    const pinned = await deps.prisma.channel.updateMany({
      where: {
        id: channel.id,
        sftpHostKey: null,
        sftpHost: channel.sftpHost,
        sftpPort: channel.sftpPort,
      },
      data: { sftpHostKey: hostKey },
    });
    return { ok: true, ms: ms(), hostKey, learned: pinned.count === 1 };
  } catch (error) {
    if (error instanceof SftpHostKeyError) {
      return {
        ok: false,
        ms: ms(),
        error: `channel ${channel.name} (${channel.id}): ${error.message}`,
        ...(error.presented ? { hostKey: error.presented } : {}),
        ...(error.expected ? { expectedHostKey: error.expected } : {}),
      };
    }
    if (error instanceof SftpError || error instanceof SecretDecryptionError) {
      return { ok: false, ms: ms(), error: error.message };
    }
    throw error;
  }
}
