import { quoteIdent } from "@luxrelay/db";
import type pg from "pg";
import { OutboundInputError } from "../errors.ts";
import { EMAIL_FIELDS } from "./email.ts";

// Which tables an audience may be read from (issue 14). A table audience makes a worker read
// every column of every row and mail it out, so the name a client gives is checked against
// the operator's AUDIENCE_TABLES, and luxrelay's own tables (channel secrets, API key hashes,
// recipients of other sends) and the system catalogs are refused whatever that list says.

/** luxrelay's tables (prisma/migrations); the producer's tests check none is missing. */
export const LUXRELAY_TABLES: ReadonlySet<string> = new Set([
  "_prisma_migrations",
  "api_key",
  "batch",
  "campaign",
  "channel",
  "contact_engagement",
  "content_variant",
  "email_event",
  "event_cursor",
  "execution",
  "execution_content",
  "export_job",
  "interaction_log",
  "luxsci_template",
  "offer",
  "offer_history",
  "recipient",
  "suppression",
  "sync_watermark",
  "tracking",
]);

/** Schemas PostgreSQL keeps for itself (no user schema may start with pg_). */
const SYSTEM_SCHEMA = /^(pg_|information_schema$)/;

/** Relations rows can be read from: tables, partitioned and foreign tables, views. */
const READABLE_KINDS = new Set(["r", "p", "f", "v", "m"]);

const NOT_ALLOWED = "is not one AUDIENCE_TABLES allows audiences to be read from";

interface Found {
  schema: string;
  name: string;
  kind: string;
  allowed: boolean;
  luxrelay: boolean;
  readable: boolean;
  hasEmail: boolean;
}

/**
 * Whether `entry` of AUDIENCE_TABLES (`table`, `schema.table` or `schema.*`) names `name` as
 * the client wrote it; the table it resolves to is compared in SQL.
 */
const namesAsWritten = (entry: string, name: string) =>
  entry === name || (entry.endsWith(".*") && name.startsWith(entry.slice(0, -1)));

/**
 * Refuses (OutboundInputError on `audience.name`) a table audience that is not allowed, does
 * not exist, can't be read, or has no email column; returns quietly otherwise.
 */
export async function checkAudienceTable(
  pool: pg.Pool,
  name: string,
  allowed: readonly string[],
): Promise<void> {
  const refuse = (message: string): never => {
    throw new OutboundInputError("audience.name", `table ${name} ${message}`);
  };
  if (SYSTEM_SCHEMA.test(name.includes(".") ? (name.split(".")[0] as string) : "")) {
    refuse("is a PostgreSQL system catalog");
  }
  const exact = allowed.filter((entry) => !entry.endsWith(".*")).map(quoteIdent);
  const schemas = allowed.filter((entry) => entry.endsWith(".*")).map((e) => e.slice(0, -2));
  const result = await pool.query<Found>(
    `SELECT n.nspname AS schema, c.relname AS name, c.relkind::text AS kind,
       (c.oid IN (SELECT to_regclass(e) FROM unnest($2::text[]) e) OR n.nspname = ANY ($3))
         AS allowed,
       to_regclass(quote_ident(n.nspname) || '._prisma_migrations') IS NOT NULL AS luxrelay,
       has_table_privilege(c.oid, 'SELECT') AS readable,
       EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0
         AND NOT a.attisdropped AND a.attname = ANY ($4)) AS "hasEmail"
     FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE c.oid = to_regclass($1)`,
    [quoteIdent(name), exact, schemas, [...EMAIL_FIELDS]],
  );
  const found = result.rows[0];
  if (!found) {
    // Not there: allowed or not by its name, an unqualified one being in the current schema
    // (where it would be created), so that a name outside the list is never said to be missing.
    const current = await pool.query<{ schema: string }>("SELECT current_schema() AS schema");
    const qualified = name.includes(".") ? name : `${current.rows[0]?.schema}.${name}`;
    const listed = allowed.some(
      (entry) => namesAsWritten(entry, name) || namesAsWritten(entry, qualified),
    );
    return refuse(listed ? "does not exist" : NOT_ALLOWED);
  }
  if (SYSTEM_SCHEMA.test(found.schema)) refuse("is a PostgreSQL system catalog");
  if (found.luxrelay && LUXRELAY_TABLES.has(found.name)) refuse("is one of luxrelay's own");
  if (!found.allowed) refuse(NOT_ALLOWED);
  if (!READABLE_KINDS.has(found.kind)) refuse("is not a table or view");
  if (!found.readable) refuse("can't be read by luxrelay's database user (no SELECT)");
  if (!found.hasEmail) refuse(`has no email column (${EMAIL_FIELDS.join(", ")})`);
}
