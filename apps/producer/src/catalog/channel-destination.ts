import type { Prisma } from "@luxrelay/db";
import { OutboundInputError } from "@luxrelay/outbound";
import type { TChannelUpdate } from "./channels.ts";
import type { CatalogDeps } from "./context.ts";

// Secrets stay where they were given for (issue 14): a channel's stored LuxSci secret and
// password are only ever sent to its apiUrl, its SFTP password to its SFTP host and port,
// whose key is pinned, and to its apiUrl too (an export request names the SFTP destination
// and its password for LuxSci to upload to). So a change of any of these takes the secrets
// again, and whoever may change a channel can't point it, and the connectivity test, at a
// server of their choosing to collect them.

type ChannelRow = Prisma.ChannelModel;

/** LuxSci is https only; http:// (the simulator, tests) needs LUXSCI_ALLOW_HTTP. */
export function checkApiUrl(deps: CatalogDeps, apiUrl: string | undefined): void {
  if (apiUrl === undefined || apiUrl.startsWith("https://") || deps.allowHttpApiUrl) return;
  throw new OutboundInputError("apiUrl", "must be an https URL (http only with LUXSCI_ALLOW_HTTP)");
}

/**
 * A PATCH that sends the channel somewhere else must bring the secrets for there: the stored
 * LuxSci secret and password are only sent to the apiUrl they came with, the SFTP password
 * only to the host and port it came with.
 */
export function checkSecretsFollowDestination(current: ChannelRow, input: TChannelUpdate): void {
  const again = (field: string, because: string) =>
    new OutboundInputError(
      field,
      `required again when ${because} changes: the stored one is only sent where it was given for`,
    );
  const keepsSftpPassword = current.sftpPasswordEnc !== null && input.sftpPassword === undefined;
  if (input.apiUrl !== undefined && input.apiUrl !== current.apiUrl) {
    if (input.luxsciSecret === undefined) throw again("luxsciSecret", "apiUrl");
    if (current.luxsciPasswordEnc !== null && input.luxsciPassword === undefined) {
      throw again("luxsciPassword", "apiUrl");
    }
    // Export requests carry it to the apiUrl as destination_password.
    if (keepsSftpPassword) throw again("sftpPassword", "apiUrl");
  }
  // Clearing or replacing the pin would let the next test log in to any server that answers.
  if (
    input.sftpHostKey !== undefined &&
    input.sftpHostKey !== current.sftpHostKey &&
    keepsSftpPassword
  ) {
    throw again("sftpPassword", "sftpHostKey");
  }
  const host = input.sftpHost === undefined ? current.sftpHost : input.sftpHost;
  if (
    sftpMoved(current, input) &&
    host !== null &&
    current.sftpPasswordEnc !== null &&
    input.sftpPassword === undefined
  ) {
    throw again("sftpPassword", input.sftpHost === undefined ? "sftpPort" : "sftpHost");
  }
}

/** The SFTP destination (host or port) changes: its pinned host key is another server's. */
export function sftpMoved(current: ChannelRow, input: TChannelUpdate): boolean {
  return (
    (input.sftpHost !== undefined && input.sftpHost !== current.sftpHost) ||
    (input.sftpPort !== undefined && input.sftpPort !== current.sftpPort)
  );
}
