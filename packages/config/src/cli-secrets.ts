// Channel secrets the `luxrelay` CLI may take from its environment instead of its command line
// (where shell history and `ps` would keep them): `luxrelay channel create` reads them when no
// option gives them; `channel update` only with --secrets-from-env.

export interface CliSecrets {
  /** LUXSCI_SECRET: the channel's LuxSci API secret. */
  luxsciSecret: string | undefined;
  /** LUXSCI_PASSWORD: the LuxSci account password (user-scope auth). */
  luxsciPassword: string | undefined;
  /** SFTP_PASSWORD: the password of the channel's SFTP destination. */
  sftpPassword: string | undefined;
}

export function loadCliSecrets(env: Record<string, string | undefined> = process.env): CliSecrets {
  return {
    luxsciSecret: env.LUXSCI_SECRET || undefined,
    luxsciPassword: env.LUXSCI_PASSWORD || undefined,
    sftpPassword: env.SFTP_PASSWORD || undefined,
  };
}
