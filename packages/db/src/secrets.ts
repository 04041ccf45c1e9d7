import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";

// Channel secrets (LuxSci API secret and password, SFTP password) are stored encrypted with
// AES-256-GCM under SECRET_KEY. Format: "v1:<iv>:<tag>:<ciphertext>", each part base64url.
// GCM's tag makes a wrong key or a tampered value fail loudly instead of yielding garbage.

const VERSION = "v1";
const IV_BYTES = 12;

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

export function encryptSecret(plaintext: string, key: Buffer): string {
  assertKey(key);
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv("aes-256-gcm", key, iv);
  const ciphertext = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
  const tag = cipher.getAuthTag();
  return [VERSION, iv, tag, ciphertext]
    .map((part) => (typeof part === "string" ? part : part.toString("base64url")))
    .join(":");
}

export function decryptSecret(stored: string, key: Buffer): string {
  assertKey(key);
  const [version, iv, tag, ciphertext, ...rest] = stored.split(":");
  if (version !== VERSION || !iv || !tag || ciphertext === undefined || rest.length > 0) {
    throw new SecretDecryptionError("not a value written by encryptSecret (expected v1:...)");
  }
  try {
    const decipher = createDecipheriv("aes-256-gcm", key, Buffer.from(iv, "base64url"));
    decipher.setAuthTag(Buffer.from(tag, "base64url"));
    return Buffer.concat([
      decipher.update(Buffer.from(ciphertext, "base64url")),
      decipher.final(),
    ]).toString("utf8");
  } catch {
    throw new SecretDecryptionError("wrong SECRET_KEY, or the stored value was altered");
  }
}
