import { createCipheriv, createDecipheriv, createHash, randomBytes } from "node:crypto";

// Channel secrets (LuxSci API secret and password, SFTP password) are stored encrypted with
// AES-256-GCM. Format: "v2:<keyId>:<iv>:<tag>:<ciphertext>", the last three base64url.
// - The associated data is "<table>.<column>.<rowId>": a value copied into another row or
//   column (by someone who can write the database but not read SECRET_KEY) fails to decrypt
//   instead of handing one channel's password to another channel's destination.
// - keyId (first 8 hex of sha256(key), not secret) names the key, so SECRET_KEY can change:
//   the previous keys (SECRET_KEY_PREVIOUS) still decrypt, and `npm run secrets -- rotate`
//   re-encrypts every value under the current one (secrets-rotate.ts).
// - The tag must be 16 bytes: GCM accepts shorter ones, which make forgery far easier.
// "v1:<iv>:<tag>:<ciphertext>" (no key id, no associated data) is still read, so rows written
// before v2 keep working until a rotation rewrites them.

const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_ID_HEX = 8;
const BASE64URL = /^[A-Za-z0-9_-]*$/;

/** Where a secret lives: its associated data, so the value only decrypts in that place. */
export interface SecretField {
  table: string;
  column: string;
  rowId: string;
}

/** Keys a process decrypts with: the current key first, then previous ones still accepted. */
export type SecretKeys = Buffer | readonly Buffer[];

export class SecretDecryptionError extends Error {
  constructor(reason: string) {
    // Never include the ciphertext or the key: the message may reach a log or an API reply.
    super(`cannot decrypt a stored secret: ${reason}`);
    this.name = "SecretDecryptionError";
  }
}

function assertKey(key: Buffer): void {
  if (key.length !== 32) throw new Error("SECRET_KEY must be 32 bytes for AES-256-GCM");
}

/** The public name of a key: first 8 hex of its SHA-256 (identifies it, reveals nothing). */
export function secretKeyId(key: Buffer): string {
  assertKey(key);
  return createHash("sha256").update(key).digest("hex").slice(0, KEY_ID_HEX);
}

function associatedData(field: SecretField): Buffer {
  return Buffer.from(`${field.table}.${field.column}.${field.rowId}`, "utf8");
}

function keyList(keys: SecretKeys): readonly Buffer[] {
  const list = Buffer.isBuffer(keys) ? [keys] : keys;
  for (const key of list) assertKey(key);
  return list;
}

export function encryptSecret(plaintext: string, key: Buffer, field: SecretField): string {
  const keyId = secretKeyId(key);
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv("aes-256-gcm", key, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(associatedData(field));
  const ciphertext = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
  const tag = cipher.getAuthTag();
  return ["v2", keyId, ...[iv, tag, ciphertext].map((part) => part.toString("base64url"))].join(
    ":",
  );
}

/** True when `stored` is a v2 value under `key`: rotating it again would change nothing. */
export function isEncryptedUnder(stored: string, key: Buffer): boolean {
  return stored.startsWith(`v2:${secretKeyId(key)}:`);
}

interface Parsed {
  keyId: string | null;
  iv: Buffer;
  tag: Buffer;
  ciphertext: Buffer;
}

function parse(stored: string): Parsed {
  const parts = stored.split(":");
  const [version] = parts;
  const encoded =
    version === "v2" && parts.length === 5
      ? parts.slice(2)
      : version === "v1" && parts.length === 4
        ? parts.slice(1)
        : null;
  const keyId = version === "v2" ? (parts[1] ?? "") : null;
  if (!encoded || (keyId !== null && !/^[0-9a-f]{8}$/.test(keyId))) {
    throw new SecretDecryptionError("not a value written by encryptSecret (expected v2:...)");
  }
  if (!encoded.every((part) => BASE64URL.test(part))) {
    throw new SecretDecryptionError("the stored value is not base64url");
  }
  const [iv, tag, ciphertext] = encoded.map((part) => Buffer.from(part, "base64url")) as [
    Buffer,
    Buffer,
    Buffer,
  ];
  if (iv.length !== IV_BYTES) throw new SecretDecryptionError(`the IV is not ${IV_BYTES} bytes`);
  if (tag.length !== TAG_BYTES) {
    throw new SecretDecryptionError(`the authentication tag is not ${TAG_BYTES} bytes`);
  }
  return { keyId, iv, tag, ciphertext };
}

function open(parsed: Parsed, key: Buffer, aad: Buffer | null): string | null {
  try {
    const decipher = createDecipheriv("aes-256-gcm", key, parsed.iv, {
      authTagLength: TAG_BYTES,
    });
    if (aad) decipher.setAAD(aad);
    decipher.setAuthTag(parsed.tag);
    return Buffer.concat([decipher.update(parsed.ciphertext), decipher.final()]).toString("utf8");
  } catch {
    return null;
  }
}

/**
 * The plaintext of a value stored at `field`, with whichever of `keys` its key id names (a v1
 * value: the first key that opens it). Throws SecretDecryptionError, saying why but holding
 * nothing secret, when no key matches, the value was altered or it belongs elsewhere.
 */
export function decryptSecret(
  stored: string,
  keys: SecretKeys,
  field: SecretField,
  options: { acceptV1?: boolean } = {},
): string {
  const list = keyList(keys);
  const parsed = parse(stored);
  if (parsed.keyId === null) {
    // A v1 value is bound to nothing: copied into another row or column it would still open.
    // Only `secrets rotate` reads it, to write it again as v2 where it is.
    if (!options.acceptV1) {
      throw new SecretDecryptionError(
        "stored in the older v1 format, bound to no row: run npm run -s secrets -- rotate",
      );
    }
    for (const key of list) {
      const plaintext = open(parsed, key, null);
      if (plaintext !== null) return plaintext;
    }
    throw new SecretDecryptionError("wrong SECRET_KEY, or the stored value was altered");
  }
  const key = list.find((candidate) => secretKeyId(candidate) === parsed.keyId);
  if (!key) {
    const known = list.map(secretKeyId).join(", ");
    throw new SecretDecryptionError(
      `encrypted under key ${parsed.keyId}, which is neither SECRET_KEY nor in SECRET_KEY_PREVIOUS (keys here: ${known})`,
    );
  }
  const plaintext = open(parsed, key, associatedData(field));
  if (plaintext === null) {
    throw new SecretDecryptionError(
      `the value was altered, or belongs to another row or column than ${field.table}.${field.column} of ${field.rowId}`,
    );
  }
  return plaintext;
}
