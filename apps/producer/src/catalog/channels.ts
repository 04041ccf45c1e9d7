import { encryptChannelSecret, newChannelId, type Prisma } from "@luxrelay/db";
import { NotFoundError, normalizeEmail, OutboundInputError } from "@luxrelay/outbound";
import { z } from "zod";
import { checkApiUrl, checkSecretsFollowDestination, sftpMoved } from "./channel-destination.ts";
import type { CatalogDeps } from "./context.ts";
import { ConflictError } from "./errors.ts";

// Channels (docs/architecture.md "Outbound" 1): LuxSci credentials and sending settings. Secrets
// arrive in plaintext once, are encrypted with SECRET_KEY (bound to the channel's row and column)
// before they touch the database, and never leave again: views say hasSecret / hasPassword /
// hasSftpPassword instead. A stored secret only ever goes where it was given for: moving the
// channel's apiUrl or SFTP destination takes the secrets again, so whoever can change a
// channel can't send its stored credentials to a server of their choosing.

/** LuxSci accepts 10 headers per message and luxrelay always adds chid (seed 000 step 6). */
export const MAX_CUSTOM_HEADERS = 9;
const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,100}$/;
const CRLF = /[\r\n]/;

const email = z.string().superRefine((value, ctx) => {
  const checked = normalizeEmail(value);
  if ("problem" in checked) ctx.addIssue({ code: "custom", message: checked.problem });
});

const noLineBreaks = (max: number) =>
  z
    .string()
    .max(max)
    .refine((value) => !CRLF.test(value), { error: "must not contain CR or LF" });

const customHeader = z.tuple([z.string(), z.string()]).superRefine(([name, value], ctx) => {
  if (!HEADER_NAME.test(name)) {
    ctx.addIssue({ code: "custom", message: `"${name.slice(0, 40)}" is not a header name` });
  } else if (name.toLowerCase() === "chid") {
    ctx.addIssue({ code: "custom", message: "chid is set by luxrelay on every message" });
  }
  if (CRLF.test(value)) {
    ctx.addIssue({ code: "custom", message: `value of header ${name} contains CR or LF` });
  }
  if (value.length > 998) {
    ctx.addIssue({ code: "custom", message: `value of header ${name} is over 998 characters` });
  }
});

const int = (min: number, max: number) => z.int().min(min).max(max);

/** "SHA256:<base64>" as `ssh-keygen -l` prints a host key's fingerprint (padding dropped). */
const hostKeyFingerprint = z
  .string()
  .regex(/^SHA256:[A-Za-z0-9+/]{43}=?$/, {
    error: 'expected a SHA256 fingerprint as ssh-keygen -l prints it ("SHA256:" and 43 base64)',
  })
  .transform((value) => value.replace(/=$/, ""));

/** Every writable channel field; secrets in plaintext (encrypted before storage). */
const channelFields = {
  name: z.string().trim().min(1).max(200),
  apiUrl: z.url({ protocol: /^https?$/, error: "expected an http(s) URL" }),
  luxsciUser: z.string().min(1).max(200),
  luxsciToken: z.string().min(1).max(500),
  luxsciSecret: z.string().min(1).max(500),
  luxsciPassword: z.string().min(1).max(500).nullable(),
  fromAddress: email,
  fromName: noLineBreaks(100).nullable(),
  replyAddress: email.nullable(),
  bcc: email.nullable(),
  customHeaders: z
    .array(customHeader)
    .max(MAX_CUSTOM_HEADERS, { error: `at most ${MAX_CUSTOM_HEADERS} headers (chid is the 10th)` })
    .refine(
      (headers) => new Set(headers.map(([name]) => name.toLowerCase())).size === headers.length,
      { error: "a header name appears twice" },
    ),
  secure: z.boolean(),
  autoSuppress: z.boolean(),
  batchSize: int(1, 1000),
  apiRetries: int(0, 100),
  rateLimitPerMinute: int(1, 1_000_000).nullable(),
  clientId: z.string().regex(/^[A-Za-z0-9]{1,32}$/, { error: "expected 1-32 letters or digits" }),
  syncMode: z.enum(["api", "export"]),
  syncIntervalSeconds: int(10, 86_400),
  syncEnabled: z.boolean(),
  asyncReportRetries: int(0, 100),
  sftpHost: z.string().min(1).max(255).nullable(),
  sftpPort: int(1, 65_535),
  sftpUser: z.string().min(1).max(200).nullable(),
  sftpPassword: z.string().min(1).max(500).nullable(),
  sftpDirectory: z.string().min(1).max(1000).nullable(),
  /** The SFTP server's pinned host key; learned on the first connectivity test when not given. */
  sftpHostKey: hostKeyFingerprint.nullable(),
  templateRetentionDays: int(1, 3650),
  eventTimezoneOverride: z.boolean(),
};

// Defaults are the database's (prisma/schema.prisma), so a PATCH never resets a field it
// doesn't name: zod 4 would apply a .default() inside .partial() too.
export const ZChannelCreate = z
  .object(channelFields)
  .partial()
  .required({
    name: true,
    luxsciUser: true,
    luxsciToken: true,
    luxsciSecret: true,
    fromAddress: true,
  })
  .strict();
export type TChannelCreate = z.infer<typeof ZChannelCreate>;

export const ZChannelUpdate = z.object(channelFields).partial().strict();
export type TChannelUpdate = z.infer<typeof ZChannelUpdate>;

export const ZChannelId = z.object({
  id: z.string().regex(/^[0-9a-f]{32}$/, { error: "expected a channel id (32 hex characters)" }),
});

type ChannelRow = Prisma.ChannelModel;

/** A channel as the API shows it: no ciphertext, and the token only as a hint. */
export function channelView(row: ChannelRow) {
  const {
    luxsciSecretEnc,
    luxsciPasswordEnc,
    sftpPasswordEnc,
    luxsciToken,
    customHeaders,
    ...rest
  } = row;
  return {
    ...rest,
    customHeaders: customHeaders as [string, string][],
    // The token is half of the API credentials: enough of it to tell channels apart.
    luxsciTokenHint: `${luxsciToken.slice(0, 4)}…`,
    hasSecret: luxsciSecretEnc.length > 0,
    hasPassword: luxsciPasswordEnc !== null,
    hasSftpPassword: sftpPasswordEnc !== null,
  };
}
export type ChannelView = ReturnType<typeof channelView>;

/**
 * Plaintext secret fields -> ciphertext columns; null clears, undefined keeps. The API secret
 * is never null here: its schema refuses null, so it can be replaced but not removed.
 */
function secretColumns(deps: CatalogDeps, channelId: string, input: TChannelUpdate) {
  const encrypt = (
    column: "luxsciSecretEnc" | "luxsciPasswordEnc" | "sftpPasswordEnc",
    value: string | null | undefined,
  ) =>
    value === undefined || value === null
      ? value
      : encryptChannelSecret(column, value, channelId, deps.secretKey);
  return {
    luxsciSecretEnc: encrypt("luxsciSecretEnc", input.luxsciSecret),
    luxsciPasswordEnc: encrypt("luxsciPasswordEnc", input.luxsciPassword),
    sftpPasswordEnc: encrypt("sftpPasswordEnc", input.sftpPassword),
  };
}

function plainColumns(input: TChannelUpdate) {
  const { luxsciSecret: _s, luxsciPassword: _p, sftpPassword: _f, ...plain } = input;
  return plain;
}

/** Export-mode sync downloads from SFTP (seed 000 inbound step 5): it needs somewhere to log in. */
function checkSyncSettings(merged: {
  syncMode: string;
  sftpHost: string | null;
  sftpUser: string | null;
  sftpPasswordEnc: string | null;
}): void {
  if (merged.syncMode !== "export") return;
  if (!merged.sftpHost)
    throw new OutboundInputError("sftpHost", "required when syncMode is export");
  if (!merged.sftpUser)
    throw new OutboundInputError("sftpUser", "required when syncMode is export");
  if (!merged.sftpPasswordEnc) {
    throw new OutboundInputError("sftpPassword", "required when syncMode is export");
  }
}

async function assertNameFree(deps: CatalogDeps, name: string, exceptId?: string): Promise<void> {
  const existing = await deps.prisma.channel.findUnique({ where: { name }, select: { id: true } });
  if (existing && existing.id !== exceptId) {
    throw new ConflictError("name", `a channel named "${name}" exists (${existing.id})`);
  }
}

export async function createChannel(
  deps: CatalogDeps,
  input: TChannelCreate,
): Promise<ChannelView> {
  checkApiUrl(deps, input.apiUrl ?? deps.defaultApiUrl);
  // Made here, not by the database: each secret is encrypted bound to its row.
  const id = newChannelId();
  const secrets = secretColumns(deps, id, input);
  checkSyncSettings({
    syncMode: input.syncMode ?? "api",
    sftpHost: input.sftpHost ?? null,
    sftpUser: input.sftpUser ?? null,
    sftpPasswordEnc: secrets.sftpPasswordEnc ?? null,
  });
  await assertNameFree(deps, input.name);
  const row = await deps.prisma.channel.create({
    data: {
      ...plainColumns(input),
      id,
      name: input.name,
      luxsciUser: input.luxsciUser,
      luxsciToken: input.luxsciToken,
      fromAddress: input.fromAddress,
      apiUrl: input.apiUrl ?? deps.defaultApiUrl,
      syncIntervalSeconds: input.syncIntervalSeconds ?? deps.defaultSyncIntervalSeconds,
      apiRetries: input.apiRetries ?? deps.defaultApiRetries,
      luxsciSecretEnc: secrets.luxsciSecretEnc as string,
      luxsciPasswordEnc: secrets.luxsciPasswordEnc,
      sftpPasswordEnc: secrets.sftpPasswordEnc,
    },
  });
  return channelView(row);
}

export async function updateChannel(
  deps: CatalogDeps,
  id: string,
  input: TChannelUpdate,
): Promise<ChannelView> {
  const current = await deps.prisma.channel.findUnique({ where: { id } });
  if (!current) throw new NotFoundError("channel", id);
  checkApiUrl(deps, input.apiUrl);
  checkSecretsFollowDestination(current, input);
  const secrets = secretColumns(deps, id, input);
  const plain = plainColumns(input);
  checkSyncSettings({
    syncMode: plain.syncMode ?? current.syncMode,
    sftpHost: plain.sftpHost === undefined ? current.sftpHost : plain.sftpHost,
    sftpUser: plain.sftpUser === undefined ? current.sftpUser : plain.sftpUser,
    sftpPasswordEnc:
      secrets.sftpPasswordEnc === undefined ? current.sftpPasswordEnc : secrets.sftpPasswordEnc,
  });
  if (plain.name !== undefined) await assertNameFree(deps, plain.name, id);
  // updatedAt moves, so the LuxSci client cached for this channel is rebuilt on next use.
  const row = await deps.prisma.channel.update({
    where: { id },
    data: {
      ...plain,
      // A new destination is another server: its key is learned again unless given.
      ...(sftpMoved(current, input) && input.sftpHostKey === undefined
        ? { sftpHostKey: null }
        : {}),
      ...(secrets.luxsciSecretEnc ? { luxsciSecretEnc: secrets.luxsciSecretEnc } : {}),
      luxsciPasswordEnc: secrets.luxsciPasswordEnc,
      sftpPasswordEnc: secrets.sftpPasswordEnc,
    },
  });
  return channelView(row);
}

export async function listChannels(deps: CatalogDeps): Promise<ChannelView[]> {
  const rows = await deps.prisma.channel.findMany({ orderBy: { createdAt: "asc" } });
  return rows.map(channelView);
}

export async function getChannel(deps: CatalogDeps, id: string): Promise<ChannelView> {
  const row = await deps.prisma.channel.findUnique({ where: { id } });
  if (!row) throw new NotFoundError("channel", id);
  return channelView(row);
}
