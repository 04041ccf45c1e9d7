import { randomUUID } from "node:crypto";
import { decryptSecret, encryptSecret, type SecretField, type SecretKeys } from "./secrets.ts";

// The channel's encrypted columns, each value bound to its row and column (secrets.ts). The id
// is part of the associated data, so a channel's id is made here, before its secrets are
// encrypted and the row inserted, instead of by the database's default.

/** Prisma field -> SQL column of every channel column that holds ciphertext. */
export const CHANNEL_SECRET_COLUMNS = {
  luxsciSecretEnc: "luxsci_secret_enc",
  luxsciPasswordEnc: "luxsci_password_enc",
  sftpPasswordEnc: "sftp_password_enc",
} as const;
export type TChannelSecretColumn = keyof typeof CHANNEL_SECRET_COLUMNS;

/** A channel id as the database would make it: 32 hex characters. */
export function newChannelId(): string {
  return randomUUID().replaceAll("-", "");
}

export function channelSecretField(column: TChannelSecretColumn, channelId: string): SecretField {
  return { table: "channel", column: CHANNEL_SECRET_COLUMNS[column], rowId: channelId };
}

export function encryptChannelSecret(
  column: TChannelSecretColumn,
  plaintext: string,
  channelId: string,
  key: Buffer,
): string {
  return encryptSecret(plaintext, key, channelSecretField(column, channelId));
}

export function decryptChannelSecret(
  column: TChannelSecretColumn,
  stored: string,
  channelId: string,
  keys: SecretKeys,
): string {
  return decryptSecret(stored, keys, channelSecretField(column, channelId));
}
