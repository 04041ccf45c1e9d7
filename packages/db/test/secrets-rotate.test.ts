import { createCipheriv, randomBytes } from "node:crypto";
import { createTestDatabase, type TestDatabase } from "@luxrelay/testkit";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  decryptChannelSecret,
  encryptChannelSecret,
  isEncryptedUnder,
  newChannelId,
  rotateSecrets,
} from "../src/index.ts";

// `npm run secrets -- rotate` on a real database: every value ends under the new key, v1
// values included; a second run changes nothing; a value no key opens is reported, not lost.

let db: TestDatabase;
let client: pg.Client;
const oldKey = randomBytes(32);
const newKey = randomBytes(32);

function encryptV1(plaintext: string, v1Key: Buffer): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", v1Key, iv);
  const ciphertext = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
  return ["v1", ...[iv, cipher.getAuthTag(), ciphertext].map((p) => p.toString("base64url"))].join(
    ":",
  );
}

/** A channel row whose secret columns `columns` writes, knowing the row's id. */
async function insertChannel(
  name: string,
  columns: (id: string) => Record<string, string | null | undefined>,
) {
  const id = newChannelId();
  const values = columns(id);
  await client.query(
    `INSERT INTO channel (id, name, luxsci_user, luxsci_token, luxsci_secret_enc, luxsci_password_enc, sftp_password_enc, from_address, updated_at)
     VALUES ($1, $2, 'u', 't', $3, $4, $5, 'a@example.com', now())`,
    [
      id,
      name,
      values.luxsciSecretEnc,
      values.luxsciPasswordEnc ?? null,
      values.sftpPasswordEnc ?? null,
    ],
  );
  return id;
}

async function row(id: string) {
  const result = await client.query(
    `SELECT luxsci_secret_enc, luxsci_password_enc, sftp_password_enc FROM channel WHERE id = $1`,
    [id],
  );
  return result.rows[0] as Record<string, string | null>;
}

beforeAll(async () => {
  db = await createTestDatabase();
  client = new pg.Client({ connectionString: db.url });
  await client.connect();
});

afterAll(async () => {
  await client?.end();
  await db?.drop();
});

describe("rotateSecrets", () => {
  it("re-encrypts every secret under the current key, once, and reports what it did", async () => {
    const aId = await insertChannel("a", () => ({
      luxsciSecretEnc: encryptV1("secret-a", oldKey),
      luxsciPasswordEnc: encryptV1("password-a", oldKey),
    }));
    const b = await insertChannel("b", (id) => ({
      luxsciSecretEnc: encryptChannelSecret("luxsciSecretEnc", "secret-b", id, oldKey),
      sftpPasswordEnc: encryptChannelSecret("sftpPasswordEnc", "sftp-b", id, newKey),
    }));
    const lost = await insertChannel("lost", () => ({
      luxsciSecretEnc: encryptV1("x", randomBytes(32)),
    }));

    const first = await rotateSecrets(client, { current: newKey, previous: [oldKey] });
    expect(first).toMatchObject({ rotated: 3, current: 1, rows: 2 });
    expect(first.failed).toEqual([
      expect.objectContaining({ table: "channel", column: "luxsci_secret_enc", rowId: lost }),
    ]);

    const rowA = await row(aId);
    const rowB = await row(b);
    for (const stored of [
      rowA.luxsci_secret_enc,
      rowA.luxsci_password_enc,
      rowB.sftp_password_enc,
    ]) {
      expect(isEncryptedUnder(stored as string, newKey)).toBe(true);
    }
    // The new values open with the new key alone, bound to their own row and column.
    expect(
      decryptChannelSecret("luxsciSecretEnc", rowA.luxsci_secret_enc as string, aId, newKey),
    ).toBe("secret-a");
    expect(
      decryptChannelSecret("luxsciPasswordEnc", rowA.luxsci_password_enc as string, aId, newKey),
    ).toBe("password-a");
    expect(
      decryptChannelSecret("luxsciSecretEnc", rowB.luxsci_secret_enc as string, b, newKey),
    ).toBe("secret-b");
    expect(rowA.sftp_password_enc).toBeNull();

    const again = await rotateSecrets(client, { current: newKey, previous: [oldKey] });
    expect(again).toMatchObject({ rotated: 0, current: 4, rows: 0 });
    expect(await row(aId)).toEqual(rowA);
  });
});
