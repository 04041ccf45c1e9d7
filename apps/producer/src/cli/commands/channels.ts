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

interface ChannelOptions extends CommonOptions {
  body?: string;
  name?: string;
  apiUrl?: string;
  user?: string;
  token?: string;
  secret?: string;
  secretFile?: string;
  password?: string;
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
    .option("--secret <secret>", "LuxSci API secret (prefer --secret-file)")
    .option("--secret-file <file>", "read the API secret from a file, - for stdin")
    .option("--password <password>", "LuxSci account password (user-scope auth)")
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

async function channelBody(options: ChannelOptions): Promise<Record<string, unknown>> {
  const base = options.body ? await readJson(options.body, "--body") : {};
  const secret = options.secretFile ? (await readText(options.secretFile)).trim() : options.secret;
  return {
    ...base,
    ...defined({
      name: options.name,
      apiUrl: options.apiUrl,
      luxsciUser: options.user,
      luxsciToken: options.token,
      luxsciSecret: secret,
      luxsciPassword: options.password,
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
        await channelBody(options),
      );
      print(options, reply, () => `created ${describeChannel(reply.channel)}`);
    });

  channelOptions(channel.command("update <channel>"))
    .description("change a channel's fields (only those given)")
    .action(async (id: string, options: ChannelOptions) => {
      const reply = await clientOf(options).request<{ channel: ChannelView }>(
        "PATCH",
        `/channels/${encodeURIComponent(id)}`,
        await channelBody(options),
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
    .description("connectivity test: LuxSci auth + GET /profile (exit 1 when it fails)")
    .action(async (id: string, options: CommonOptions) => {
      const reply = await clientOf(options).request<{
        test: { ok: boolean; ms: number; account?: unknown; uid?: unknown; error?: string };
      }>("POST", `/channels/${encodeURIComponent(id)}/test`);
      const { test } = reply;
      print(options, reply, () =>
        test.ok
          ? `ok: LuxSci account ${String(test.account ?? "?")} (uid ${String(test.uid ?? "?")}) answered in ${test.ms} ms`
          : `failed after ${test.ms} ms: ${test.error}`,
      );
      if (!test.ok) process.exitCode = 1;
    });
}
