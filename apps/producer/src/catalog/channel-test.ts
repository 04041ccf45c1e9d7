import { type SftpTestResult, testChannelSftp } from "@luxrelay/channels";
import { type OutboundDeps, testChannelConnectivity } from "@luxrelay/outbound";
import type { CatalogDeps } from "./context.ts";

// `POST /channels/{id}/test`: the channel's LuxSci credentials (auth + GET /profile) and, when
// it has an SFTP destination, a login there, which pins the server's host key the first time.
// Both go only to the hosts stored with the channel, which take the secrets again whenever
// they change (channels.ts): the test is no probe of hosts of the caller's choosing.

export interface ChannelTest {
  ok: boolean;
  ms: number;
  account?: unknown;
  uid?: unknown;
  error?: string;
  /** The SFTP destination's test; null when the channel has none. */
  sftp: SftpTestResult | null;
}

export async function testChannel(
  outbound: OutboundDeps,
  catalog: CatalogDeps,
  channelId: string,
): Promise<ChannelTest> {
  const [luxsci, sftp] = await Promise.all([
    testChannelConnectivity(outbound, channelId),
    testChannelSftp(
      {
        prisma: catalog.prisma,
        secretKey: catalog.secretKey,
        previousSecretKeys: catalog.previousSecretKeys,
      },
      channelId,
    ),
  ]);
  if (!luxsci.ok) return { ...luxsci, sftp };
  if (sftp && !sftp.ok) return { ...luxsci, ok: false, error: `SFTP: ${sftp.error}`, sftp };
  return { ...luxsci, sftp };
}
