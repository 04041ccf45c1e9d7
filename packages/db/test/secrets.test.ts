import { createCipheriv, createHash, randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  decryptSecret,
  encryptSecret,
  isEncryptedUnder,
  SecretDecryptionError,
  secretKeyId,
} from "../src/index.ts";

const key = randomBytes(32);
const field = { table: "channel", column: "luxsci_secret_enc", rowId: "a".repeat(32) };

/** A value as the v1 format wrote it: no key id, no associated data. */
function encryptV1(plaintext: string, v1Key: Buffer): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", v1Key, iv);
  const ciphertext = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
  return ["v1", iv, cipher.getAuthTag(), ciphertext]
    .map((part) => (typeof part === "string" ? part : part.toString("base64url")))
    .join(":");
}

describe("channel secret encryption (AES-256-GCM)", () => {
  it("round-trips, including unicode and empty strings", () => {
    for (const secret of ["a1b2c3-api-secret", "pässwörd ✉", ""]) {
      expect(decryptSecret(encryptSecret(secret, key, field), key, field)).toBe(secret);
    }
  });

  it("never stores the plaintext and never repeats a ciphertext", () => {
    const a = encryptSecret("my-api-secret", key, field);
    const b = encryptSecret("my-api-secret", key, field);
    expect(a).not.toContain("my-api-secret");
    expect(a).not.toBe(b);
  });

  it("writes v2 with the key's id: the first 8 hex of its SHA-256", () => {
    const id = createHash("sha256").update(key).digest("hex").slice(0, 8);
    expect(secretKeyId(key)).toBe(id);
    const stored = encryptSecret("my-api-secret", key, field);
    expect(stored.startsWith(`v2:${id}:`)).toBe(true);
    expect(isEncryptedUnder(stored, key)).toBe(true);
    expect(isEncryptedUnder(stored, randomBytes(32))).toBe(false);
  });

  it("binds a value to its table, column and row: copied elsewhere it does not decrypt", () => {
    const stored = encryptSecret("sftp-pass", key, field);
    for (const elsewhere of [
      { ...field, rowId: "b".repeat(32) },
      { ...field, column: "sftp_password_enc" },
      { ...field, table: "other" },
    ]) {
      expect(() => decryptSecret(stored, key, elsewhere)).toThrow(/another row or column/);
    }
  });

  it("fails on a wrong key with a message that holds no secret material", () => {
    const stored = encryptSecret("my-api-secret", key, field);
    const wrongKey = randomBytes(32);
    expect(() => decryptSecret(stored, wrongKey, field)).toThrow(SecretDecryptionError);
    try {
      decryptSecret(stored, wrongKey, field);
    } catch (error) {
      const message = (error as Error).message;
      expect(message).toContain(secretKeyId(key));
      expect(message).toMatch(/neither SECRET_KEY nor in SECRET_KEY_PREVIOUS/);
      expect(message).not.toContain(stored.split(":")[4]);
      expect(message).not.toContain(wrongKey.toString("base64"));
    }
  });

  it("accepts a previous key, found by its key id", () => {
    const previous = randomBytes(32);
    const stored = encryptSecret("old-secret", previous, field);
    const current = randomBytes(32);
    expect(() => decryptSecret(stored, current, field)).toThrow(SecretDecryptionError);
    expect(decryptSecret(stored, [current, previous], field)).toBe("old-secret");
  });

  it("refuses v1 values (bound to no row) except for rotation, which reads them with either key", () => {
    const previous = randomBytes(32);
    const v1 = { acceptV1: true };
    // Copied into any row, a v1 value would open: the running system refuses it.
    expect(() => decryptSecret(encryptV1("v1-secret", key), key, field)).toThrow(
      /older v1 format.*secrets -- rotate/,
    );
    expect(decryptSecret(encryptV1("v1-secret", key), key, field, v1)).toBe("v1-secret");
    expect(decryptSecret(encryptV1("v1-secret", previous), [key, previous], field, v1)).toBe(
      "v1-secret",
    );
    expect(() => decryptSecret(encryptV1("v1-secret", previous), key, field, v1)).toThrow(
      /wrong SECRET_KEY/,
    );
  });

  it("requires a 16-byte tag, in v2 and in v1", () => {
    const [version, id, iv, tag, ciphertext] = encryptSecret("my-api-secret", key, field).split(
      ":",
    );
    const short = Buffer.from(tag ?? "", "base64url")
      .subarray(0, 4)
      .toString("base64url");
    expect(() => decryptSecret([version, id, iv, short, ciphertext].join(":"), key, field)).toThrow(
      /tag is not 16 bytes/,
    );
    const [v1, iv1, tag1, ct1] = encryptV1("v1-secret", key).split(":");
    const short1 = Buffer.from(tag1 ?? "", "base64url")
      .subarray(0, 12)
      .toString("base64url");
    expect(() => decryptSecret([v1, iv1, short1, ct1].join(":"), key, field)).toThrow(
      /tag is not 16 bytes/,
    );
  });

  it("fails on a tampered value or on something it did not write", () => {
    const [version, id, iv, tag, ciphertext] = encryptSecret("my-api-secret", key, field).split(
      ":",
    );
    const flipped = Buffer.from(ciphertext ?? "", "base64url");
    flipped[0] = (flipped[0] ?? 0) ^ 1;
    const tampered = [version, id, iv, tag, flipped.toString("base64url")].join(":");
    expect(() => decryptSecret(tampered, key, field)).toThrow(SecretDecryptionError);
    expect(() => decryptSecret("plaintext-secret", key, field)).toThrow(/expected v2/);
  });
});
