import type { Channel, ContentVariant, Execution, Offer } from "@luxrelay/db";
import { UnrecoverableError } from "bullmq";
import type pg from "pg";

// The rows the worker's hot paths read (plan, send, finalize), with plain pg rather than
// Prisma: a worker that only plans and sends never loads Prisma's query compiler (~50 MB).
// Columns are the fields' snake_case names, returned under the camelCase names Prisma uses.

function columns<T>(alias: string, fields: readonly (keyof T & string)[]): string {
  return fields
    .map(
      (field) => `${alias}.${field.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)} AS "${field}"`,
    )
    .join(", ");
}

const CHANNEL_FIELDS = [
  "id",
  "name",
  "apiUrl",
  "luxsciUser",
  "luxsciToken",
  "luxsciSecretEnc",
  "luxsciPasswordEnc",
  "fromAddress",
  "fromName",
  "replyAddress",
  "bcc",
  "customHeaders",
  "secure",
  "autoSuppress",
  "batchSize",
  "apiRetries",
  "rateLimitPerMinute",
  "syncMode",
  "syncIntervalSeconds",
  "syncEnabled",
  "asyncReportRetries",
  "sftpHost",
  "sftpPort",
  "sftpUser",
  "sftpPasswordEnc",
  "sftpDirectory",
  "sftpHostKey",
  "templateRetentionDays",
  "eventTimezoneOverride",
  "clientId",
  "createdAt",
  "updatedAt",
] as const satisfies readonly (keyof Channel)[];
// Every field of the model is read: a field added to the schema and not here fails typecheck.
const _allChannelFields: Exclude<keyof Channel, (typeof CHANNEL_FIELDS)[number]> extends never
  ? true
  : false = true;

const EXECUTION_FIELDS = [
  "id",
  "offerId",
  "channelId",
  "kind",
  "status",
  "audience",
  "batchesTotal",
  "recipientsTotal",
  "recipientsInvalid",
  "recipientsDuplicate",
  "recipientsSuppressed",
  "seedsSent",
  "round",
] as const satisfies readonly (keyof Execution)[];
export type ExecutionRow = Pick<Execution, (typeof EXECUTION_FIELDS)[number]>;

export type OfferRow = Pick<Offer, "id" | "variantAttribute" | "variantRule" | "seeds">;
export type VariantRow = Pick<
  ContentVariant,
  "id" | "key" | "subject" | "html" | "text" | "position"
>;

/** A channel row; a missing one is unrecoverable for the job that names it. */
export async function loadChannel(db: pg.Pool | pg.ClientBase, id: string): Promise<Channel> {
  const result = await db.query<Channel>(
    `SELECT ${columns<Channel>("c", CHANNEL_FIELDS)} FROM channel c WHERE c.id = $1`,
    [id],
  );
  const channel = result.rows[0];
  if (!channel) throw new UnrecoverableError(`channel ${id} not found`);
  return channel;
}

export async function loadExecution(
  db: pg.Pool | pg.ClientBase,
  id: number,
): Promise<ExecutionRow | null> {
  const result = await db.query<ExecutionRow>(
    `SELECT ${columns<ExecutionRow>("e", EXECUTION_FIELDS)} FROM execution e WHERE e.id = $1`,
    [id],
  );
  return result.rows[0] ?? null;
}

/** An offer with its content variants (by position); a missing one is unrecoverable. */
export async function loadOffer(
  db: pg.Pool | pg.ClientBase,
  id: number,
): Promise<OfferRow & { variants: VariantRow[] }> {
  const [offer, variants] = await Promise.all([
    db.query<OfferRow>(
      `SELECT ${columns<OfferRow>("o", ["id", "variantAttribute", "variantRule", "seeds"])}
       FROM offer o WHERE o.id = $1`,
      [id],
    ),
    db.query<VariantRow>(
      `SELECT ${columns<VariantRow>("v", ["id", "key", "subject", "html", "text", "position"])}
       FROM content_variant v WHERE v.offer_id = $1 ORDER BY v.position, v.id`,
      [id],
    ),
  ]);
  const row = offer.rows[0];
  if (!row) throw new UnrecoverableError(`offer ${id} not found`);
  return { ...row, variants: variants.rows };
}
