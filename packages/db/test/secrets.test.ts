import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { decryptSecret, encryptSecret, SecretDecryptionError } from "../src/index.ts";

const key = randomBytes(32);

describe("channel secret encryption (AES-256-GCM)", () => {
  it("round-trips, including unicode and empty strings", () => {
    for (const secret of ["a1b2c3-api-secret", "pässwörd ✉", ""]) {
      expect(decryptSecret(encryptSecret(secret, key), key)).toBe(secret);
    }
  });

  it("never stores the plaintext and never repeats a ciphertext", () => {
    const a = encryptSecret("my-api-secret", key);
    const b = encryptSecret("my-api-secret", key);
    expect(a).not.toContain("my-api-secret");
    expect(a).not.toBe(b);
    expect(a.startsWith("v1:")).toBe(true);
  });

  it("fails on a wrong key with a message that holds no secret material", () => {
    const stored = encryptSecret("my-api-secret", key);
    const wrongKey = randomBytes(32);
    expect(() => decryptSecret(stored, wrongKey)).toThrow(SecretDecryptionError);
    try {
      decryptSecret(stored, wrongKey);
    } catch (error) {
      const message = (error as Error).message;
      expect(message).toMatch(/wrong SECRET_KEY/);
      expect(message).not.toContain(stored.split(":")[3]);
      expect(message).not.toContain(wrongKey.toString("base64"));
    }
  });

  it("fails on a tampered value", () => {
    const [version, iv, tag, ciphertext] = encryptSecret("my-api-secret", key).split(":");
    const flipped = Buffer.from(ciphertext ?? "", "base64url");
    flipped[0] = (flipped[0] ?? 0) ^ 1;
    const tampered = [version, iv, tag, flipped.toString("base64url")].join(":");
    expect(() => decryptSecret(tampered, key)).toThrow(SecretDecryptionError);
    expect(() => decryptSecret("plaintext-secret", key)).toThrow(/expected v1/);
  });
});
