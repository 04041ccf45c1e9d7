import { createLogger } from "@luxrelay/logger";
import type { LuxSciCell, ReportKind } from "@luxrelay/luxsci";
import { REPORT_HEADERS } from "@luxrelay/luxsci-sim";
import {
  createTestDatabase,
  createTestQueues,
  type TestDatabase,
  type TestQueues,
} from "@luxrelay/testkit";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventsStreamKey } from "../src/apply/index.ts";
import { type InboundDeps, importReportRows } from "../src/import/index.ts";
import { getExecutionMetrics, getOfferMetrics } from "../src/metrics/index.ts";

// Seed 000 inbound step 11: metrics counted from email_event, per execution and per offer.

const CHANNEL = "abcdefabcdefabcdefabcdefabcdef01";

let db: TestDatabase;
let queues: TestQueues;
let pool: pg.Pool;
let deps: InboundDeps;
let offerId: number;
let executions: number[];

async function importKind(kind: ReportKind, rows: Record<string, LuxSciCell>[]) {
  return importReportRows(deps, {
    channelId: CHANNEL,
    kind,
    source: `${kind} page`,
    rows: rows.map((values, i) => ({
      line: i + 1,
      row: Object.fromEntries(REPORT_HEADERS[kind].map((name) => [name, values[name] ?? null])),
    })),
  });
}

/** Report values of message `n` of an execution, sent to contact `contact`. */
function message(execution: number, contact: string, n: number) {
  return {
    sendmail_id: `SM-${execution}-${n}`,
    to: `${contact}@example.com`,
    header1: "chid",
    header1_value: `${execution}_${offerId}_${CHANNEL}_${contact}`,
  };
}

beforeAll(async () => {
  db = await createTestDatabase({ migrated: true });
  queues = createTestQueues();
  pool = new pg.Pool({ connectionString: db.url, max: 2 });
  deps = {
    pool,
    redis: queues.connection,
    queuePrefix: queues.prefix,
    logger: createLogger({ level: "silent" }),
  };
  await pool.query(
    `INSERT INTO channel (id, name, luxsci_user, luxsci_token, luxsci_secret_enc, from_address, updated_at)
     VALUES ($1, 'metrics', 'u', 't', 'v1:a:b:c', 'news@example.com', now())`,
    [CHANNEL],
  );
  const { rows } = await pool.query(
    `WITH c AS (INSERT INTO campaign (name, updated_at) VALUES ('M', now()) RETURNING id),
          o AS (INSERT INTO offer (campaign_id, name, updated_at) SELECT id, 'Sale', now() FROM c RETURNING id)
     INSERT INTO execution (offer_id, channel_id, audience, updated_at)
     SELECT id, $1, '{}', now() FROM o, generate_series(1, 2) RETURNING id, offer_id`,
    [CHANNEL],
  );
  offerId = rows[0].offer_id;
  executions = rows.map((row) => row.id);
  for (const execution of executions) {
    await pool.query(
      "INSERT INTO tracking (tracking_id, execution_id, offer_id, channel_id) VALUES ($1, $2, $3, $4)",
      [`${execution}_${offerId}_${CHANNEL}`, execution, offerId, CHANNEL],
    );
  }

  const [first, second] = executions as [number, number];
  const contacts = ["a", "b", "c", "d"];
  await importKind("sent", [
    ...contacts.map((c, n) => ({ ...message(first, c, n), date_sent: "2024-06-01 10:00:00" })),
    { ...message(second, "a", 9), date_sent: "2024-06-02 10:00:00" },
  ]);
  await importKind("delivery", [
    { ...message(first, "a", 0), status: "Delivered", last_updated: "2024-06-01 10:01:00" },
    {
      ...message(first, "b", 1),
      status: "Delivered",
      last_updated: "2024-06-01 10:01:00",
      Unsubscribed: 1,
    },
    { ...message(first, "c", 2), status: "HardFail", last_updated: "2024-06-01 10:01:00" },
    { ...message(first, "d", 3), status: "Spam", last_updated: "2024-06-01 10:01:00" },
    { ...message(second, "a", 9), status: "Failed", last_updated: "2024-06-02 10:01:00" },
  ]);
  const open = (c: string, n: number, at: string) => ({ ...message(first, c, n), open_date: at });
  await importKind("opens", [
    open("a", 0, "2024-06-01 11:00:00"),
    open("a", 0, "2024-06-01 12:00:00"),
    open("a", 0, "2024-06-01 13:00:00"),
    open("b", 1, "2024-06-01 11:00:00"),
  ]);
  await importKind("clicks", [
    { ...message(first, "a", 0), click_date: "2024-06-01 11:05:00", url: "https://x.test/1" },
    { ...message(first, "a", 0), click_date: "2024-06-01 11:06:00", url: "https://x.test/2" },
  ]);
  await importKind("fbl", [{ ...message(first, "b", 1), complaint_date: "2024-06-02 08:00:00" }]);
});

afterAll(async () => {
  await queues?.connection.del(eventsStreamKey(queues.prefix));
  await queues?.cleanup();
  await pool?.end();
  await db?.drop();
});

describe("event metrics", () => {
  it("counts one execution's events, unique and total opens and clicks", async () => {
    expect(await getExecutionMetrics(pool, executions[0] as number)).toEqual({
      sent: 4,
      delivered: 2,
      failed: 2,
      opened: { unique: 2, total: 4 },
      clicked: { unique: 1, total: 2 },
      complained: 1,
      unsubscribed: 1,
    });
  });

  it("adds up every execution of an offer", async () => {
    expect(await getOfferMetrics(pool, offerId)).toEqual({
      sent: 5,
      delivered: 2,
      failed: 3,
      opened: { unique: 2, total: 4 },
      clicked: { unique: 1, total: 2 },
      complained: 1,
      unsubscribed: 1,
    });
  });

  it("is all zeros for an execution without events", async () => {
    expect(await getExecutionMetrics(pool, 999_999)).toMatchObject({
      sent: 0,
      opened: { unique: 0, total: 0 },
    });
  });
});
