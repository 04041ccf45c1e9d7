import { createTestDatabase, type TestDatabase } from "@luxrelay/testkit";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { copyRows, copyRowsIgnoringConflicts } from "../src/index.ts";

let db: TestDatabase;
let client: pg.Client;
const channelId = "0123456789abcdef0123456789abcdef";

beforeAll(async () => {
  db = await createTestDatabase();
  client = new pg.Client({ connectionString: db.url });
  await client.connect();
  await client.query(
    `INSERT INTO channel (id, name, luxsci_user, luxsci_token, luxsci_secret_enc, from_address, updated_at)
     VALUES ($1, 'c', 'u', 't', 'v1:a:b:c', 'f@example.com', now())`,
    [channelId],
  );
});

afterAll(async () => {
  await client?.end();
  await db?.drop();
});

function* events(count: number, start = 0) {
  const base = Date.UTC(2026, 6, 18);
  for (let i = start; i < start + count; i++) {
    yield [
      channelId,
      `SM${i}`,
      "delivered",
      new Date(base + i * 1000),
      `r${i}@example.com`,
      `chid_${i}`,
    ];
  }
}
const columns = ["channel_id", "sendmail_id", "type", "occurred_at", "email", "chid"];

describe("COPY bulk load", () => {
  it("loads 100,000 rows, every one intact", async () => {
    const written = await copyRows(client, {
      table: "email_event",
      columns,
      rows: events(100_000),
    });
    expect(written).toBe(100_000);
    const { rows } = await client.query(
      "SELECT count(*)::int AS n, count(DISTINCT sendmail_id)::int AS distinct_ids, max(occurred_at) AS last FROM email_event",
    );
    expect(rows[0]).toEqual({
      n: 100_000,
      distinct_ids: 100_000,
      last: new Date(Date.UTC(2026, 6, 18) + 99_999 * 1000),
    });
  });

  it("keeps tabs, newlines, backslashes, unicode, JSON and nulls exact", async () => {
    const awkward = "tab\there\nnew line\\back\\slash \r ✉ 'quote\" \\N";
    await copyRows(client, {
      table: "interaction_log",
      columns: ["message", "data", "execution_id"],
      rows: [[awkward, { nested: [1, "two\t"], ok: true }, null]],
    });
    const { rows } = await client.query("SELECT message, data, execution_id FROM interaction_log");
    expect(rows).toEqual([
      { message: awkward, data: { nested: [1, "two\t"], ok: true }, execution_id: null },
    ]);
  });

  it("can run twice without duplicating rows (ON CONFLICT DO NOTHING)", async () => {
    const again = await copyRowsIgnoringConflicts(client, {
      table: "email_event",
      columns,
      rows: events(1000, 99_500),
    });
    expect(again).toEqual({ offered: 1000, inserted: 500 });
    const { rows } = await client.query("SELECT count(*)::int AS n FROM email_event");
    expect(rows[0].n).toBe(100_500);
  });

  it("names the row when a row has the wrong number of values, and writes nothing", async () => {
    const before = (await client.query("SELECT count(*)::int AS n FROM suppression")).rows[0].n;
    await expect(
      copyRowsIgnoringConflicts(client, {
        table: "suppression",
        columns: ["email", "source"],
        rows: [["a@example.com", "manual"], ["b@example.com"]],
      }),
    ).rejects.toThrow(/row 2 has 1 values, expected 2/);
    const after = (await client.query("SELECT count(*)::int AS n FROM suppression")).rows[0].n;
    expect(after).toBe(before);
  });
});
