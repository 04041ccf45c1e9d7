import { parseArgs } from "node:util";
import { copyRows, copyRowsIgnoringConflicts } from "@luxrelay/db";
import { createTestDatabase } from "@luxrelay/testkit";
import pg from "pg";
import { writeBenchmarkSection } from "./report.ts";

// How fast the COPY helper loads the million-row tables (recipients at planning, events at
// import), into a fresh migrated database with all its indexes and constraints.
// npm run copy -w @luxrelay/bench -- --rows 1000000

const { values } = parseArgs({ options: { rows: { type: "string", default: "1000000" } } });
const rows = Number(values.rows);
const channelId = "0123456789abcdef0123456789abcdef";

const db = await createTestDatabase();
const client = new pg.Client({ connectionString: db.url });
await client.connect();
try {
  await client.query(
    `INSERT INTO channel (id, name, luxsci_user, luxsci_token, luxsci_secret_enc, from_address, updated_at)
     VALUES ($1, 'bench', 'u', 't', 'v1:a:b:c', 'f@example.com', now())`,
    [channelId],
  );
  const { rows: offer } = await client.query(
    `WITH c AS (INSERT INTO campaign (name, updated_at) VALUES ('bench', now()) RETURNING id),
          o AS (INSERT INTO offer (campaign_id, name, updated_at) SELECT id, 'bench', now() FROM c RETURNING id)
     INSERT INTO execution (offer_id, channel_id, audience, updated_at)
     SELECT id, $1, '{}', now() FROM o RETURNING id, offer_id`,
    [channelId],
  );
  const executionId = offer[0].id as number;
  const offerId = offer[0].offer_id as number;

  function* recipients() {
    for (let i = 0; i < rows; i++) {
      yield [
        executionId,
        `c${i}`,
        `user${i}@example.com`,
        { first_name: `Name${i}`, slot_1: `<b>${i}</b>` },
        `${executionId}_${offerId}_${channelId}_c${i}`,
      ];
    }
  }
  function* events() {
    const base = Date.UTC(2026, 10, 1);
    for (let i = 0; i < rows; i++) {
      yield [
        channelId,
        `SM${i.toString(36)}`,
        "delivered",
        new Date(base + i),
        `user${i}@example.com`,
        `${executionId}_${offerId}_${channelId}_c${i}`,
      ];
    }
  }

  const memoryBefore = process.memoryUsage().rss;
  let started = performance.now();
  await copyRows(client, {
    table: "recipient",
    columns: ["execution_id", "contact_id", "email", "slot_data", "chid"],
    rows: recipients(),
  });
  const recipientSeconds = (performance.now() - started) / 1000;

  started = performance.now();
  const result = await copyRowsIgnoringConflicts(client, {
    table: "email_event",
    columns: ["channel_id", "sendmail_id", "type", "occurred_at", "email", "chid"],
    rows: events(),
  });
  const eventSeconds = (performance.now() - started) / 1000;
  const peakRssMb = Math.round(Math.max(process.memoryUsage().rss, memoryBefore) / 2 ** 20);

  const figures = [
    `${rows.toLocaleString("en")} recipients (5 columns, JSON slot data, unique + indexes) by COPY: ${recipientSeconds.toFixed(1)} s (${Math.round(rows / recipientSeconds).toLocaleString("en")} rows/s)`,
    `${rows.toLocaleString("en")} email events by COPY into staging + INSERT ON CONFLICT DO NOTHING: ${eventSeconds.toFixed(1)} s (${Math.round(rows / eventSeconds).toLocaleString("en")} rows/s, ${result.inserted.toLocaleString("en")} inserted)`,
    `client process RSS after: ${peakRssMb} MB (rows are streamed, not held)`,
  ];
  for (const line of figures) console.log(line);
  writeBenchmarkSection(
    "COPY bulk load (packages/db)",
    `npm run copy -w @luxrelay/bench -- --rows ${rows}`,
    figures,
  );
} finally {
  await client.end();
  await db.drop();
}
