import { createHash, randomBytes, type ScryptOptions, scrypt, timingSafeEqual } from "node:crypto";

// API keys for the producer's API. A key reads "lr_<prefix>_<secret>": the prefix finds the
// row (it is public, like the first characters of a GitHub token), the secret is checked
// against a scrypt hash, so a stolen database does not yield usable keys. Only the hash is
// stored; the key is shown once, when it is created.

export const API_SCOPES = ["read", "send", "admin"] as const;
export type TApiScope = (typeof API_SCOPES)[number];

/** read < send < admin: each scope may do what the ones before it may. */
const SCOPE_RANK: Record<TApiScope, number> = { read: 0, send: 1, admin: 2 };

export function scopeAllows(granted: TApiScope, required: TApiScope): boolean {
  return SCOPE_RANK[granted] >= SCOPE_RANK[required];
}

const KEY_PATTERN = /^lr_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$/;
const PREFIX_BYTES = 6;
const SECRET_BYTES = 32;
const SALT_BYTES = 16;
const HASH_BYTES = 32;
/** N=2^15, r=8: about 50-100 ms per check on a server core, 32 MiB of memory. */
const SCRYPT: Required<Pick<ScryptOptions, "N" | "r" | "p">> = { N: 2 ** 15, r: 8, p: 1 };
const SCRYPT_MAXMEM = 64 * 1024 * 1024;

/** The part of pg's Pool/Client this file needs. */
export interface Queryable {
  // biome-ignore lint/suspicious/noExplicitAny: pg's own signature types rows as any
  query(text: string, values?: unknown[]): Promise<{ rows: any[]; rowCount: number | null }>;
}

export interface ApiKeyRecord {
  id: number;
  name: string;
  scope: TApiScope;
  prefix: string;
  createdAt: Date;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}

function scryptAsync(secret: string, salt: Buffer, options: typeof SCRYPT): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(secret, salt, HASH_BYTES, { ...options, maxmem: SCRYPT_MAXMEM }, (error, key) =>
      error ? reject(error) : resolve(key),
    ),
  );
}

/** "scrypt:<N>:<r>:<p>:<salt>:<hash>" of a key's secret part. */
export async function hashApiKeySecret(secret: string): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const hash = await scryptAsync(secret, salt, SCRYPT);
  const { N, r, p } = SCRYPT;
  return ["scrypt", N, r, p, salt.toString("base64url"), hash.toString("base64url")].join(":");
}

/** Constant-time check of a secret against a stored hash; false for any malformed hash. */
export async function verifyApiKeySecret(secret: string, stored: string): Promise<boolean> {
  const [kind, N, r, p, salt, hash, ...rest] = stored.split(":");
  if (kind !== "scrypt" || !salt || !hash || rest.length > 0) return false;
  const expected = Buffer.from(hash, "base64url");
  const actual = await scryptAsync(secret, Buffer.from(salt, "base64url"), {
    N: Number(N),
    r: Number(r),
    p: Number(p),
  });
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

/** Splits a presented key; null when it cannot be one of ours. */
export function parseApiKey(key: string): { prefix: string; secret: string } | null {
  const match = KEY_PATTERN.exec(key);
  return match?.[1] && match[2] ? { prefix: match[1], secret: match[2] } : null;
}

/** A short, non-reversible label for a key in logs and caches (never the key itself). */
export function apiKeyDigest(key: string): string {
  return createHash("sha256").update(key).digest("base64url");
}

function toRecord(row: Record<string, unknown>): ApiKeyRecord {
  return {
    id: Number(row.id),
    name: String(row.name),
    scope: row.scope as TApiScope,
    prefix: String(row.prefix),
    createdAt: row.created_at as Date,
    lastUsedAt: (row.last_used_at as Date | null) ?? null,
    revokedAt: (row.revoked_at as Date | null) ?? null,
  };
}

const COLUMNS = "id, name, scope, prefix, created_at, last_used_at, revoked_at";

export class ApiKeyInputError extends Error {
  override readonly name = "ApiKeyInputError";
}

/** Creates a key; the returned `key` exists nowhere else and cannot be recovered later. */
export async function createApiKey(
  db: Queryable,
  input: { name: string; scope: TApiScope },
): Promise<{ key: string; record: ApiKeyRecord }> {
  const name = input.name.trim();
  if (!/^[\w .@-]{1,100}$/.test(name)) {
    throw new ApiKeyInputError("name: 1-100 letters, digits, spaces or . _ @ -");
  }
  if (!API_SCOPES.includes(input.scope)) {
    throw new ApiKeyInputError(`scope: expected one of ${API_SCOPES.join(", ")}`);
  }
  const prefix = randomBytes(PREFIX_BYTES).toString("hex");
  const secret = randomBytes(SECRET_BYTES).toString("base64url");
  const hash = await hashApiKeySecret(secret);
  const { rows } = await db.query(
    `INSERT INTO api_key (name, scope, prefix, hash) VALUES ($1, $2::api_scope, $3, $4)
     ON CONFLICT (name) DO NOTHING RETURNING ${COLUMNS}`,
    [name, input.scope, prefix, hash],
  );
  if (!rows[0]) throw new ApiKeyInputError(`name: a key named "${name}" exists`);
  return { key: `lr_${prefix}_${secret}`, record: toRecord(rows[0]) };
}

export async function listApiKeys(db: Queryable): Promise<ApiKeyRecord[]> {
  const { rows } = await db.query(`SELECT ${COLUMNS} FROM api_key ORDER BY id`);
  return rows.map(toRecord);
}

/** Revokes a key by name; true when one was active. */
export async function revokeApiKey(db: Queryable, name: string): Promise<boolean> {
  const { rowCount } = await db.query(
    "UPDATE api_key SET revoked_at = now() WHERE name = $1 AND revoked_at IS NULL",
    [name],
  );
  return (rowCount ?? 0) > 0;
}

/** The active key a presented key string is, or null (unknown, wrong secret, revoked). */
export async function findApiKey(db: Queryable, key: string): Promise<ApiKeyRecord | null> {
  const parts = parseApiKey(key);
  if (!parts) return null;
  const { rows } = await db.query(
    `SELECT ${COLUMNS}, hash FROM api_key WHERE prefix = $1 AND revoked_at IS NULL`,
    [parts.prefix],
  );
  const row = rows[0];
  if (!row || !(await verifyApiKeySecret(parts.secret, String(row.hash)))) return null;
  return toRecord(row);
}

/** Stamps last_used_at; callers throttle it (one write per key per minute is plenty). */
export async function touchApiKey(db: Queryable, id: number): Promise<void> {
  await db.query("UPDATE api_key SET last_used_at = now() WHERE id = $1", [id]);
}
