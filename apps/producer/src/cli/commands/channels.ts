import { loadCliSecrets } from "@luxrelay/config";
import type { ChannelTest } from "../../catalog/channel-test.ts";
import type { ChannelView } from "../../catalog/channels.ts";
import {
  type CliCommand,
  type CommonOptions,
  clientOf,
  collect,
  defined,
  readJson,
  readText,
  UsageError,
  wholeNumber,
  withCommon,
  yesNo,
} from "../common.ts";
import { print, table } from "../output.ts";

// luxrelay channel create|update|list|test
//
// Secrets (the LuxSci secret and password, the SFTP password) come from a file, stdin (`-`) or
// the environment (LUXSCI_SECRET, LUXSCI_PASSWORD, SFTP_PASSWORD); the plain options still
// work but warn, since a command line stays in shell history and shows in `ps`.

interface ChannelOptions extends CommonOptions {
  body?: string;
  name?: string;
  apiUrl?: string;
  user?: string;
  token?: string;
  secret?: string;
  secretFile?: string;
  password?: string;
  passwordFile?: string;
  sftpHost?: string;
  sftpPort?: number;
  sftpUser?: string;
  sftpPassword?: string;
  sftpPasswordFile?: string;
  sftpHostKey?: string;
  secretsFromEnv?: boolean;
  from?: string;
  fromName?: string;
  reply?: string;
  bcc?: string;
  header?: string[];
  secure?: boolean;
  autoSuppress?: boolean;
  batchSize?: number;
  apiRetries?: number;
  rateLimit?: number;
  clientId?: string;
}

function channelOptions(command: CliCommand): CliCommand {
  return withCommon(command)
    .option("--body <file>", "JSON file of channel fields (any field, e.g. sync/SFTP); flags win")
    .option("--name <name>", "unique channel name")
    .option("--api-url <url>", "LuxSci API v2 base URL (default: LuxSci's)")
    .option("--user <user>", "LuxSci user (luxsciUser)")
    .option("--token <token>", "LuxSci API token")
    .option("--secret <secret>", "LuxSci API secret (warns: use --secret-file or LUXSCI_SECRET)")
    .option("--secret-file <file>", "read the API secret from a file, - for stdin")
    .option("--password <password>", "LuxSci account password (warns: use --password-file)")
    .option("--password-file <file>", "read the LuxSci password from a file, - for stdin")
    .option("--sftp-host <host>", "SFTP destination of exports (changing it takes its password)")
    .option("--sftp-port <port>", "SFTP port (default 22)", wholeNumber("--sftp-port"))
    .option("--sftp-user <user>", "SFTP user")
    .option("--sftp-password <password>", "SFTP password (warns: use --sftp-password-file)")
    .option("--sftp-password-file <file>", "read the SFTP password from a file, - for stdin")
    .option(
      "--sftp-host-key <fingerprint>",
      'the SFTP server\'s "SHA256:..." (ssh-keygen -l); else learned by `channel test`',
    )
    .option(
      "--secrets-from-env",
      "update: take LUXSCI_SECRET, LUXSCI_PASSWORD, SFTP_PASSWORD (create always does)",
    )
    .option("--from <address>", "From address")
    .option("--from-name <name>", "From display name (max 100)")
    .option("--reply <address>", "Reply-To address")
    .option("--bcc <address>", "BCC address on every message")
    .option("--header <header>", 'custom header "Name: value" (repeatable, max 9)', collect)
    .option("--secure <yes|no>", "SecureLine sending (sl_no_tls)", yesNo("--secure"))
    .option(
      "--auto-suppress <yes|no>",
      "suppress hard fails automatically",
      yesNo("--auto-suppress"),
    )
    .option("--batch-size <n>", "recipients per LuxSci call (1-1000)", wholeNumber("--batch-size"))
    .option("--api-retries <n>", "tries per LuxSci call", wholeNumber("--api-retries"))
    .option("--rate-limit <perMinute>", "LuxSci requests per minute", wholeNumber("--rate-limit"))
    .option("--client-id <id>", "client id in template titles");
}

function parseHeader(header: string): [string, string] {
  const colon = header.indexOf(":");
  if (colon <= 0) throw new UsageError(`--header: expected "Name: value" (got "${header}")`);
  return [header.slice(0, colon).trim(), header.slice(colon + 1).trim()];
}

/** Where each secret may come from: its option, its file option, its environment variable. */
const SECRET_SOURCES = [
  {
    field: "luxsciSecret",
    option: "secret",
    file: "secretFile",
    flag: "--secret",
    env: "LUXSCI_SECRET",
  },
  {
    field: "luxsciPassword",
    option: "password",
    file: "passwordFile",
    flag: "--password",
    env: "LUXSCI_PASSWORD",
  },
  {
    field: "sftpPassword",
    option: "sftpPassword",
    file: "sftpPasswordFile",
    flag: "--sftp-password",
    env: "SFTP_PASSWORD",
  },
] as const;

type Secrets = Record<string, string | undefined>;

/**
 * The secrets the command was given, from a file (or stdin, `-`, for one of them) or from the
 * command line, with a warning on stderr; and those the environment has (used on create, and
 * on update with --secrets-from-env, where neither an option nor --body gives them).
 */
async function channelSecrets(options: ChannelOptions): Promise<{ given: Secrets; env: Secrets }> {
  const stdinUsers = SECRET_SOURCES.filter((source) => options[source.file] === "-");
  if (stdinUsers.length > 1) {
    throw new UsageError(
      `stdin (-) can give one secret only, not ${stdinUsers.map((s) => `${s.flag}-file`).join(" and ")}`,
    );
  }
  const env = loadCliSecrets();
  const given: Secrets = {};
  for (const source of SECRET_SOURCES) {
    const inline = options[source.option];
    const file = options[source.file];
    if (inline !== undefined && file !== undefined) {
      throw new UsageError(`${source.flag} and ${source.flag}-file: give one of them`);
    }
    if (inline !== undefined) {
      process.stderr.write(
        `warning: ${source.flag} puts a secret on the command line (shell history, ps): use ${source.flag}-file <file>, ${source.flag}-file - (stdin) or ${source.env}\n`,
      );
      given[source.field] = inline;
    } else if (file !== undefined) {
      // The file's final line break is not part of the secret.
      given[source.field] = (await readText(file)).replace(/\r?\n$/, "");
    }
  }
  return { given, env: { ...env } };
}

async function channelBody(
  options: ChannelOptions,
  command: "create" | "update",
): Promise<Record<string, unknown>> {
  const base = options.body ? await readJson(options.body, "--body") : {};
  const secrets = await channelSecrets(options);
  const fromEnv = command === "create" || options.secretsFromEnv === true;
  return {
    ...(fromEnv ? defined(secrets.env) : {}),
    ...base,
    ...defined({
      name: options.name,
      apiUrl: options.apiUrl,
      luxsciUser: options.user,
      luxsciToken: options.token,
      ...secrets.given,
      sftpHost: options.sftpHost,
      sftpPort: options.sftpPort,
      sftpUser: options.sftpUser,
      sftpHostKey: options.sftpHostKey,
      fromAddress: options.from,
      fromName: options.fromName,
      replyAddress: options.reply,
      bcc: options.bcc,
      customHeaders: options.header?.map(parseHeader),
      secure: options.secure,
      autoSuppress: options.autoSuppress,
      batchSize: options.batchSize,
      apiRetries: options.apiRetries,
      rateLimitPerMinute: options.rateLimit,
      clientId: options.clientId,
    }),
  };
}

function describeChannel(channel: ChannelView): string {
  const from = channel.fromName
    ? `${channel.fromName} <${channel.fromAddress}>`
    : channel.fromAddress;
  return [
    `channel ${channel.id} "${channel.name}"`,
    table([
      ["from", from],
      [
        "luxsci",
        `${channel.luxsciUser} at ${channel.apiUrl} (secret stored: ${channel.hasSecret ? "yes" : "no"})`,
      ],
      [
        "sending",
        `batch ${channel.batchSize}, ${channel.apiRetries} retries, secure ${channel.secure ? "yes" : "no"}, auto-suppress ${channel.autoSuppress ? "yes" : "no"}`,
      ],
      [
        "sync",
        `${channel.syncMode}${channel.syncEnabled ? "" : " (disabled)"} every ${channel.syncIntervalSeconds} s`,
      ],
    ]),
  ].join("\n");
}

export function registerChannelCommands(program: CliCommand): void {
  const channel = program
    .command("channel")
    .description("LuxSci channels: credentials and sending settings");

  channelOptions(channel.command("create"))
    .description("create a channel; the secret is stored encrypted and never shown again")
    .action(async (options: ChannelOptions) => {
      const reply = await clientOf(options).request<{ channel: ChannelView }>(
        "POST",
        "/channels",
        await channelBody(options, "create"),
      );
      print(options, reply, () => `created ${describeChannel(reply.channel)}`);
    });

  channelOptions(channel.command("update <channel>"))
    .description("change a channel's fields (only those given)")
    .action(async (id: string, options: ChannelOptions) => {
      const reply = await clientOf(options).request<{ channel: ChannelView }>(
        "PATCH",
        `/channels/${encodeURIComponent(id)}`,
        await channelBody(options, "update"),
      );
      print(options, reply, () => `updated ${describeChannel(reply.channel)}`);
    });

  withCommon(channel.command("list"))
    .description("list channels")
    .action(async (options: CommonOptions) => {
      const reply = await clientOf(options).request<{ channels: ChannelView[] }>(
        "GET",
        "/channels",
      );
      print(options, reply, () =>
        reply.channels.length === 0
          ? "no channels"
          : reply.channels
              .map((c) => `${c.id}  ${c.name}  ${c.fromAddress}  ${c.luxsciUser}@${c.apiUrl}`)
              .join("\n"),
      );
    });

  withCommon(channel.command("test <channel>"))
    .description(
      "connectivity test: LuxSci auth + GET /profile, SFTP login (pins the server's host key the first time); exit 1 when it fails",
    )
    .action(async (id: string, options: CommonOptions) => {
      const reply = await clientOf(options).request<{ test: ChannelTest }>(
        "POST",
        `/channels/${encodeURIComponent(id)}/test`,
      );
      const { test } = reply;
      const sftp = test.sftp?.ok
        ? `\nSFTP: ok, host key ${test.sftp.hostKey}${test.sftp.learned ? " (learned now, pinned)" : ""}`
        : "";
      print(options, reply, () =>
        test.ok
          ? `ok: LuxSci account ${String(test.account ?? "?")} (uid ${String(test.uid ?? "?")}) answered in ${test.ms} ms${sftp}`
          : `failed after ${test.ms} ms: ${test.error}`,
      );
      if (!test.ok) process.exitCode = 1;
    });
}
