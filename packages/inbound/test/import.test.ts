import { createLogger } from "@luxrelay/logger";
import type { LuxSciCell, ReportKind, ReportPage, ReportRow } from "@luxrelay/luxsci";
import { REPORT_HEADERS } from "@luxrelay/luxsci-sim";
import {
  createTestDatabase,
  createTestQueues,
  type TestDatabase,
  type TestQueues,
} from "@luxrelay/testkit";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { applyInBackground } from "../src/apply/apply-in-background.ts";
import { applyNewEvents, eventsMarkKey, eventsStreamKey } from "../src/apply/index.ts";
import { readStoredEvents } from "../src/apply/read-events.ts";
import { type InboundDeps, importReportRows } from "../src/import/index.ts";
import { getContactEngagement } from "../src/metrics/index.ts";
import { syncChannelByApi } from "../src/sync/api-sync.ts";
import { withStandInApiSync } from "../src/testing.ts";

// Seed 000 inbound steps 6-9 and 11 against real PostgreSQL and Redis, with report rows in the
// simulator's exact columns and formats (apps/luxsci-sim reports/headers.ts, rows.ts).

const CHANNEL = "0123456789abcdef0123456789abcdef";
const OTHER_CHANNEL = "fedcba9876543210fedcba9876543210";

let db: TestDatabase;
let queues: TestQueues;
let pool: pg.Pool;
let deps: InboundDeps;
let executionId: number;
let offerId: number;
let untrackedExecutionId: number;

/** A report row of `kind` in the simulator's column order, with typical values. */
function reportRow(kind: ReportKind, values: Record<string, LuxSciCell>): ReportRow {
  const defaults: Record<string, LuxSciCell> = {
    user: "bench",
    user_id: "163972",
    from_ip: "180.190.229.9",
    subject: "June Sales",
    from: "news@example.com",
    template_id: "330654",
    status: "Delivered",
    header1: "chid",
    header2: "rpid",
    header2_value: "M",
    header3: "offername",
    header3_value: "June Sales",
    Opens: 0,
    Clicks: 0,
    Unsubscribed: 0,
  };
  const row: ReportRow = {};
  for (const name of REPORT_HEADERS[kind]) row[name] = values[name] ?? defaults[name] ?? null;
  return row;
}

const chid = (contactId: string, execution = executionId, channel = CHANNEL) =>
  `${execution}_${offerId}_${channel}_${contactId}`;

function sourced(rows: ReportRow[]) {
  return rows.map((row, i) => ({ line: i + 1, row }));
}

/** Imports one page of rows only: its events are stored, not applied or published. */
async function storeRows(kind: ReportKind, rows: ReportRow[], timezone?: string) {
  return importReportRows(deps, {
    channelId: CHANNEL,
    kind,
    rows: sourced(rows),
    source: `${kind} test page`,
    timezone,
  });
}

/** As a sync does: the page is imported, then its new events applied and published. */
async function importRows(kind: ReportKind, rows: ReportRow[], timezone?: string) {
  const result = await storeRows(kind, rows, timezone);
  await applyNewEvents(deps, CHANNEL);
  return result;
}

async function streamIds(): Promise<string[]> {
  const entries = await queues.connection.xrange(eventsStreamKey(queues.prefix), "-", "+");
  return entries.map(([, values]) => values[values.indexOf("id") + 1] as string);
}

async function events(where = "TRUE", params: unknown[] = []) {
  const { rows } = await pool.query(
    `SELECT type::text, sendmail_id, occurred_at, email, execution_id, contact_id, chid, status,
            details, url, ip, user_agent
       FROM email_event WHERE ${where} ORDER BY occurred_at, type`,
    params,
  );
  return rows;
}

beforeAll(async () => {
  db = await createTestDatabase({ migrated: true });
  queues = createTestQueues();
  pool = new pg.Pool({ connectionString: db.url, max: 3 });
  deps = {
    pool,
    redis: queues.connection,
    queuePrefix: queues.prefix,
    logger: createLogger({ name: "import-test", level: "silent" }),
  };
  for (const id of [CHANNEL, OTHER_CHANNEL]) {
    await pool.query(
      `INSERT INTO channel (id, name, luxsci_user, luxsci_token, luxsci_secret_enc, from_address, updated_at)
       VALUES ($1, $2, 'u', 't', 'v1:a:b:c', 'news@example.com', now())`,
      [id, `channel ${id}`],
    );
  }
  const { rows } = await pool.query(
    `WITH c AS (INSERT INTO campaign (name, updated_at) VALUES ('June', now()) RETURNING id),
          o AS (INSERT INTO offer (campaign_id, name, updated_at) SELECT id, 'Sale', now() FROM c RETURNING id)
     INSERT INTO execution (offer_id, channel_id, audience, updated_at)
     SELECT id, $1, '{}', now() FROM o, generate_series(1, 2) RETURNING id, offer_id`,
    [CHANNEL],
  );
  executionId = rows[0].id;
  untrackedExecutionId = rows[1].id;
  offerId = rows[0].offer_id;
  await pool.query(
    "INSERT INTO tracking (tracking_id, execution_id, offer_id, channel_id) VALUES ($1, $2, $3, $4)",
    [`${executionId}_${offerId}_${CHANNEL}`, executionId, offerId, CHANNEL],
  );
  for (const [contact, email] of [
    ["c_1", "alice@example.com"],
    ["c2", "bob@example.com"],
  ]) {
    await pool.query(
      `INSERT INTO recipient (execution_id, contact_id, email, batch_seq, chid)
       VALUES ($1, $2, $3, 1, $4)`,
      [executionId, contact, email, chid(contact as string)],
    );
  }
});

afterAll(async () => {
  await queues?.connection.del(eventsStreamKey(queues.prefix));
  await queues?.cleanup();
  await pool?.end();
  await db?.drop();
});

describe("importReportRows", () => {
  const sentRows = () => [
    reportRow("sent", {
      date_sent: "2024-03-01 08:00:00",
      to: "Alice@Example.com",
      sendmail_id: "SM1",
      header1_value: chid("c_1"),
    }),
    reportRow("sent", {
      date_sent: "2024-03-01 08:00:01",
      to: "bob@example.com",
      sendmail_id: "SM2",
      header1_value: chid("c2"),
    }),
    reportRow("sent", {
      date_sent: "2024-03-01 08:00:02",
      to: "carol@example.com",
      sendmail_id: "SM3",
      header1_value: chid("c3"),
    }),
    // Not ours: another channel, no chid, an execution of ours with no tracking row.
    reportRow("sent", {
      date_sent: "2024-03-01 08:00:03",
      to: "x@example.com",
      sendmail_id: "SMX1",
      header1_value: chid("c9", executionId, OTHER_CHANNEL),
    }),
    reportRow("sent", {
      date_sent: "2024-03-01 08:00:04",
      to: "y@example.com",
      sendmail_id: "SMX2",
      header1: null,
      header1_value: null,
    }),
    reportRow("sent", {
      date_sent: "2024-03-01 08:00:05",
      to: "z@example.com",
      sendmail_id: "SMX3",
      header1_value: chid("c9", untrackedExecutionId),
    }),
  ];

  it("maps sent rows to sent events at date_sent and counts rows that aren't ours", async () => {
    const result = await importRows("sent", sentRows());
    expect(result).toMatchObject({ offered: 6, inserted: 3, notOurs: 3, rejected: 0 });
    expect(result.problems).toEqual([]);
    expect(result.maxOccurredAt).toEqual(new Date("2024-03-01T08:00:05Z"));
    const stored = await events("type = 'sent'");
    expect(stored).toHaveLength(3);
    expect(stored[0]).toMatchObject({
      type: "sent",
      sendmail_id: "SM1",
      occurred_at: new Date("2024-03-01T08:00:00Z"),
      email: "alice@example.com",
      execution_id: executionId,
      contact_id: "c_1",
      chid: chid("c_1"),
    });
    // Rows none of which is ours stage nothing: nothing is stored, and they are counted.
    const none = await importRows("sent", sentRows().slice(3, 5));
    expect(none).toMatchObject({ offered: 2, inserted: 0, notOurs: 2, rejected: 0 });
    expect(await events("type = 'sent'")).toHaveLength(3);
  });

  it("inserts nothing when the same rows are imported again", async () => {
    const result = await importRows("sent", sentRows());
    expect(result).toMatchObject({ offered: 6, inserted: 0, notOurs: 3 });
    expect(await events("type = 'sent'")).toHaveLength(3);
  });

  it("maps delivery statuses, details and Unsubscribed", async () => {
    const rows = [
      reportRow("delivery", {
        date_sent: "2024-03-01 08:00:00",
        to: "alice@example.com",
        status: "Delivered",
        details: "gmail-smtp-in.l.google.com said 'Sent (OK)'",
        last_updated: "2024-03-01 08:01:00",
        sendmail_id: "SM1",
        header1_value: chid("c_1"),
      }),
      reportRow("delivery", {
        date_sent: "2024-03-01 08:00:01",
        to: "bob@example.com",
        status: "HardFail",
        details: "550 5.1.1 user unknown",
        last_updated: "2024-03-01 08:02:00",
        sendmail_id: "SM2",
        header1_value: chid("c2"),
      }),
      reportRow("delivery", {
        date_sent: "2024-03-01 08:00:02",
        to: "carol@example.com",
        status: "Spam",
        details: "554 rejected as spam",
        last_updated: "2024-03-01 08:03:00",
        sendmail_id: "SM3",
        header1_value: chid("c3"),
      }),
      reportRow("delivery", {
        date_sent: "2024-03-01 08:00:03",
        to: "dave@example.com",
        status: "Delivered",
        last_updated: "2024-03-01 08:04:00",
        sendmail_id: "SM4",
        Unsubscribed: 1,
        header1_value: chid("c4"),
      }),
      reportRow("delivery", {
        date_sent: "2024-03-01 08:00:04",
        to: "erin@example.com",
        status: "Failed",
        details: "451 try later, gave up",
        last_updated: "2024-03-01 08:05:00",
        sendmail_id: "SM6",
        header1_value: chid("c6"),
      }),
    ];
    const result = await importRows("delivery", rows);
    expect(result).toMatchObject({ offered: 5, inserted: 6, notOurs: 0, rejected: 0 });
    const stored = await events("sendmail_id = ANY($1) AND type <> 'sent'", [
      ["SM1", "SM2", "SM3", "SM4", "SM6"],
    ]);
    expect(stored.map((e) => [e.sendmail_id, e.type, e.occurred_at.toISOString()])).toEqual([
      ["SM1", "delivered", "2024-03-01T08:01:00.000Z"],
      ["SM2", "hard_fail", "2024-03-01T08:02:00.000Z"],
      ["SM3", "spam", "2024-03-01T08:03:00.000Z"],
      ["SM4", "delivered", "2024-03-01T08:04:00.000Z"],
      ["SM4", "unsubscribed", "2024-03-01T08:04:00.000Z"],
      ["SM6", "failed", "2024-03-01T08:05:00.000Z"],
    ]);
    expect(stored[1]).toMatchObject({ status: "HardFail", details: "550 5.1.1 user unknown" });
    // A delivery row LuxSci lists again with a newer last_updated is not a second delivery.
    const again = reportRow("delivery", {
      ...rows[0],
      last_updated: "2024-03-01 09:00:00",
      Opens: 2,
    });
    expect((await importRows("delivery", [again])).inserted).toBe(0);
  });

  it("maps opens, clicks and feedback-loop complaints with their fields", async () => {
    const open = (date: string, ip = "69.147.89.136") =>
      reportRow("opens", {
        date_sent: "2024-03-01 08:00:00",
        open_date: date,
        opener_ip: ip,
        user_agent: "YahooMailProxy; https://help.yahoo.com/kb/yahoo-mail-proxy-SLN28749.html",
        to: "alice@example.com",
        sendmail_id: "SM1",
        header1_value: chid("c_1"),
      });
    const opens = await importRows("opens", [
      open("2024-03-01 09:10:00"),
      open("2024-03-02 09:20:00"),
      open("2024-03-03 14:00:00"),
    ]);
    expect(opens.inserted).toBe(3);
    const clicks = await importRows("clicks", [
      reportRow("clicks", {
        date_sent: "2024-03-01 08:00:00",
        click_date: "2024-03-01 10:00:00",
        url: "http://www.example.com/?a=1,b=2",
        clicker_ip: "180.190.229.9",
        user_agent: "Mozilla/5.0",
        to: "alice@example.com",
        sendmail_id: "SM1",
        header1_value: chid("c_1"),
      }),
    ]);
    expect(clicks.inserted).toBe(1);
    const fbl = await importRows("fbl", [
      reportRow("fbl", {
        date_sent: "2024-03-01 08:00:03",
        complaint_date: "2024-03-02 07:00:00",
        to: "dave@example.com",
        feedback_type: "abuse",
        sendmail_id: "SM4",
        header1_value: chid("c4"),
      }),
    ]);
    expect(fbl.inserted).toBe(1);

    const [firstOpen] = await events("type = 'opened'");
    expect(firstOpen).toMatchObject({
      occurred_at: new Date("2024-03-01T09:10:00Z"),
      ip: "69.147.89.136",
      user_agent: expect.stringContaining("YahooMailProxy"),
    });
    const [click] = await events("type = 'clicked'");
    expect(click).toMatchObject({
      occurred_at: new Date("2024-03-01T10:00:00Z"),
      url: "http://www.example.com/?a=1,b=2",
      ip: "180.190.229.9",
      user_agent: "Mozilla/5.0",
    });
    const [complaint] = await events("type = 'complaint'");
    expect(complaint).toMatchObject({
      occurred_at: new Date("2024-03-02T07:00:00Z"),
      sendmail_id: "SM4",
      contact_id: "c4",
      status: "abuse",
    });
  });

  it("moves offer history forward only, with earliest timestamps and counters", async () => {
    const { rows } = await pool.query(
      `SELECT contact_id, state::text, email, offer_id, channel_id, sent_at, delivered_at,
              opened_at, clicked_at, failed_at, opens, clicks
         FROM offer_history WHERE execution_id = $1 ORDER BY contact_id`,
      [executionId],
    );
    const byContact = Object.fromEntries(rows.map((row) => [row.contact_id, row]));
    expect(byContact.c_1).toMatchObject({
      state: "clicked",
      email: "alice@example.com",
      offer_id: offerId,
      channel_id: CHANNEL,
      sent_at: new Date("2024-03-01T08:00:00Z"),
      delivered_at: new Date("2024-03-01T08:01:00Z"),
      opened_at: new Date("2024-03-01T09:10:00Z"),
      clicked_at: new Date("2024-03-01T10:00:00Z"),
      failed_at: null,
      opens: 3,
      clicks: 1,
    });
    expect(byContact.c2).toMatchObject({
      state: "hard_fail",
      failed_at: new Date("2024-03-01T08:02:00Z"),
    });
    expect(byContact.c3?.state).toBe("spam");
    expect(byContact.c4?.state).toBe("complaint");
    expect(byContact.c6?.state).toBe("failed");

    // A late sent row (reports arrive in any order) doesn't move a state back.
    await importRows("sent", [
      reportRow("sent", {
        date_sent: "2024-03-01 07:59:00",
        to: "erin@example.com",
        sendmail_id: "SM6-resend",
        header1_value: chid("c6"),
      }),
    ]);
    const { rows: c6 } = await pool.query(
      "SELECT state::text, sent_at FROM offer_history WHERE execution_id = $1 AND contact_id = 'c6'",
      [executionId],
    );
    expect(c6[0]).toEqual({ state: "failed", sent_at: new Date("2024-03-01T07:59:00Z") });
  });

  it("suppresses hard fails, failures, spam, complaints and unsubscribes", async () => {
    const { rows } = await pool.query(
      "SELECT email, source::text, reason, channel_id, at FROM suppression ORDER BY email, source",
    );
    expect(rows.map((row) => [row.email, row.source])).toEqual([
      ["bob@example.com", "hard_fail"],
      ["carol@example.com", "spam"],
      ["dave@example.com", "complaint"],
      ["dave@example.com", "unsubscribe"],
      ["erin@example.com", "failed"],
    ]);
    expect(rows[0]).toMatchObject({
      reason: "550 5.1.1 user unknown",
      channel_id: CHANNEL,
      at: new Date("2024-03-01T08:02:00Z"),
    });
    expect(rows[2]?.reason).toBe("Feedback loop complaint (abuse)");
  });

  it("aggregates engagement per address: counts, first/last, peak hours", async () => {
    const alice = await getContactEngagement(pool, CHANNEL, "Alice@Example.com");
    expect(alice).toMatchObject({
      email: "alice@example.com",
      sent: 1,
      delivered: 1,
      opened: 3,
      clicked: 1,
      failed: 0,
      complaint: 0,
      unsubscribed: 0,
      firstEventAt: new Date("2024-03-01T08:00:00Z"),
      lastEventAt: new Date("2024-03-03T14:00:00Z"),
      openPeakHour: 9,
      clickPeakHour: 10,
    });
    expect(alice?.openHours[9]).toBe(2);
    expect(alice?.openHours[14]).toBe(1);
    expect(alice?.openHours).toHaveLength(24);

    // More opens at 14:00 in a later import move the peak (merged histograms).
    await importRows(
      "opens",
      ["2024-03-04 14:05:00", "2024-03-05 14:06:00"].map((date) =>
        reportRow("opens", {
          open_date: date,
          to: "alice@example.com",
          sendmail_id: "SM1",
          header1_value: chid("c_1"),
        }),
      ),
    );
    const later = await getContactEngagement(pool, CHANNEL, "alice@example.com");
    expect(later).toMatchObject({
      opened: 5,
      openPeakHour: 14,
      lastEventAt: new Date("2024-03-05T14:06:00Z"),
    });
    const dave = await getContactEngagement(pool, CHANNEL, "dave@example.com");
    expect(dave).toMatchObject({ delivered: 1, unsubscribed: 1, complaint: 1, openPeakHour: null });
    const bob = await getContactEngagement(pool, CHANNEL, "bob@example.com");
    expect(bob).toMatchObject({ sent: 1, failed: 1 });
    expect(await getContactEngagement(pool, CHANNEL, "nobody@example.com")).toBeNull();
  });

  it("publishes exactly the new events to the events stream, none on re-import", async () => {
    const key = eventsStreamKey(queues.prefix);
    const entries = await queues.connection.xrange(key, "-", "+");
    const { rows } = await pool.query<{ id: string }>(
      "SELECT id::text FROM email_event ORDER BY id",
    );
    const fields = entries.map(([, values]) => {
      const record: Record<string, string> = {};
      for (let i = 0; i < values.length; i += 2) record[values[i] as string] = values[i + 1] ?? "";
      return record;
    });
    expect(fields.map((f) => f.id).sort()).toEqual(rows.map((row) => row.id).sort());
    const click = fields.find((f) => f.type === "clicked");
    expect(click).toEqual({
      id: expect.any(String),
      type: "clicked",
      channelId: CHANNEL,
      executionId: String(executionId),
      offerId: String(offerId),
      contactId: "c_1",
      email: "alice@example.com",
      sendmailId: "SM1",
      occurredAt: "2024-03-01T10:00:00.000Z",
      url: "http://www.example.com/?a=1,b=2",
    });
    expect(fields.find((f) => f.type === "sent")).not.toHaveProperty("url");

    await importRows("sent", sentRows());
    expect(await queues.connection.xlen(key)).toBe(entries.length);
  });

  it("rejects rows without sendmail id, date or a known status, and imports the rest", async () => {
    const rows = [
      reportRow("delivery", { last_updated: "2024-03-01 08:00:00", header1_value: chid("c7") }),
      reportRow("delivery", {
        last_updated: "2024-02-30 08:00:00",
        sendmail_id: "SM7",
        header1_value: chid("c7"),
      }),
      reportRow("delivery", { sendmail_id: "SM7", header1_value: chid("c7") }),
      reportRow("delivery", {
        last_updated: "2024-03-01 08:00:00",
        sendmail_id: "SM7",
        status: "Bounced",
        header1_value: chid("c7"),
      }),
      reportRow("delivery", {
        last_updated: "2024-03-01 08:00:00",
        to: "gina@example.com",
        sendmail_id: "SM7",
        header1_value: chid("c7"),
      }),
    ];
    const result = await importRows("delivery", rows);
    expect(result).toMatchObject({ offered: 5, inserted: 1, rejected: 4 });
    expect(result.problems).toEqual([
      { source: "delivery test page", line: 1, field: "sendmail_id", message: "missing" },
      {
        source: "delivery test page",
        line: 2,
        field: "last_updated",
        message: expect.stringContaining("2024-02-30"),
      },
      { source: "delivery test page", line: 3, field: "last_updated", message: "missing" },
      {
        source: "delivery test page",
        line: 4,
        field: "status",
        message: 'unknown status "Bounced"',
      },
    ]);
  });

  it("reads dates in the channel's timezone when it overrides GMT", async () => {
    const row = (date: string, sendmailId: string) =>
      reportRow("sent", {
        date_sent: date,
        to: "tz@example.com",
        sendmail_id: sendmailId,
        header1_value: chid("c_tz"),
      });
    const result = await importRows(
      "sent",
      [row("2024-07-01 08:00:00", "TZ1"), row("2024-01-15 08:00:00", "TZ2")],
      "America/New_York",
    );
    expect(result.maxOccurredAt).toEqual(new Date("2024-07-01T12:00:00Z"));
    const stored = await events("sendmail_id IN ('TZ1', 'TZ2')");
    expect(stored.map((e) => [e.sendmail_id, e.occurred_at.toISOString()])).toEqual([
      ["TZ2", "2024-01-15T13:00:00.000Z"], // EST, UTC-5
      ["TZ1", "2024-07-01T12:00:00.000Z"], // EDT, UTC-4
    ]);
    await expect(
      importRows("sent", [row("2024-07-01 08:00:00", "TZ3")], "Mars/Olympus"),
    ).rejects.toThrow(RangeError);
  });
  it("stores a delivery listed twice in one page once, at its first listing", async () => {
    const row = (updated: string) =>
      reportRow("delivery", {
        date_sent: "2024-03-06 08:00:00",
        last_updated: updated,
        to: "twice@example.com",
        sendmail_id: "SM-TWICE",
        header1_value: chid("c_twice"),
      });
    const result = await importRows("delivery", [
      row("2024-03-06 08:05:00"),
      row("2024-03-06 08:01:00"),
    ]);
    expect(result).toMatchObject({ offered: 2, inserted: 1 });
    const stored = await events("sendmail_id = 'SM-TWICE'");
    expect(stored.map((e) => e.occurred_at)).toEqual([new Date("2024-03-06T08:01:00Z")]);
  });

  it("stores a delivery two imports of the channel hold at once once, whichever inserts first", async () => {
    const rows = (updated: string) =>
      [1, 2, 3].map((i) =>
        reportRow("delivery", {
          date_sent: "2024-03-06 09:00:00",
          last_updated: updated,
          to: `race${i}@example.com`,
          sendmail_id: `SM-RACE${i}`,
          header1_value: chid(`c_race${i}`),
        }),
      );
    // Both imports stage their rows, then wait for the channel's import lock, held here until
    // both are waiting: whichever inserts second must find the first's events stored.
    const holder = await pool.connect();
    const key = `luxrelay:import:${CHANNEL}`;
    try {
      await holder.query("SELECT pg_advisory_lock(hashtextextended($1, 0))", [key]);
      const first = storeRows("delivery", rows("2024-03-06 09:01:00"));
      const second = storeRows("delivery", rows("2024-03-06 09:02:00"));
      for (let waiting = 0; waiting < 2; ) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        const { rows: locks } = await holder.query(
          `SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted
              AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
        );
        waiting = locks[0].n;
      }
      await holder.query("SELECT pg_advisory_unlock(hashtextextended($1, 0))", [key]);
      const results = await Promise.all([first, second]);
      expect(results.map((r) => r.inserted).sort((a, b) => a - b)).toEqual([0, 3]);
    } finally {
      holder.release();
    }
    const stored = await events("sendmail_id LIKE 'SM-RACE%'");
    expect(stored.map((e) => e.sendmail_id).sort()).toEqual(["SM-RACE1", "SM-RACE2", "SM-RACE3"]);
    expect(await applyNewEvents(deps, CHANNEL)).toEqual({ applied: 3, published: 3 });
  });

  it("applies and publishes stored events once, whenever the apply runs after the imports", async () => {
    const before = await streamIds();
    // Two imports whose apply never ran (the process died after their COMMITs).
    const page = (contact: string, sendmailId: string, at: string) => [
      reportRow("sent", {
        date_sent: at,
        to: `${contact}@example.com`,
        sendmail_id: sendmailId,
        header1_value: chid(contact),
      }),
    ];
    await storeRows("sent", page("late1", "SM-LATE1", "2024-03-07 08:00:00"));
    await storeRows("sent", page("late2", "SM-LATE2", "2024-03-07 08:00:01"));
    const history = "SELECT count(*)::int AS n FROM offer_history WHERE contact_id LIKE 'late%'";
    expect((await pool.query(history)).rows[0].n).toBe(0);
    expect(await streamIds()).toEqual(before);

    expect(await applyNewEvents(deps, CHANNEL)).toEqual({ applied: 2, published: 2 });
    expect((await pool.query(history)).rows[0].n).toBe(2);
    expect(await getContactEngagement(pool, CHANNEL, "late1@example.com")).toMatchObject({
      sent: 1,
    });
    const { rows } = await pool.query<{ id: string }>(
      "SELECT id::text FROM email_event WHERE sendmail_id LIKE 'SM-LATE%' ORDER BY id",
    );
    expect(await streamIds()).toEqual([...before, ...rows.map((row) => row.id)]);

    // Again: nothing is counted or published twice.
    expect(await applyNewEvents(deps, CHANNEL)).toEqual({ applied: 0, published: 0 });
    expect(await getContactEngagement(pool, CHANNEL, "late1@example.com")).toMatchObject({
      sent: 1,
    });
    expect(await streamIds()).toEqual([...before, ...rows.map((row) => row.id)]);
  });

  it("publishes from the cursor's copy of the stream's mark when Redis lost it, repeating none", async () => {
    await queues.connection.del(eventsMarkKey(queues.prefix, CHANNEL));
    const before = await streamIds();
    await importRows("sent", [
      reportRow("sent", {
        date_sent: "2024-03-08 08:00:00",
        to: "marked@example.com",
        sendmail_id: "SM-MARK",
        header1_value: chid("c_mark"),
      }),
    ]);
    const { rows } = await pool.query<{ id: string }>(
      "SELECT id::text FROM email_event WHERE sendmail_id = 'SM-MARK'",
    );
    expect(await streamIds()).toEqual([...before, rows[0]?.id]);
  });
  it("applies in batches of any size, in the background or not, each event once", async () => {
    const opens = (contact: string, sendmailId: string, hours: number[]) =>
      hours.map((hour, i) =>
        reportRow("opens", {
          open_date: `2024-03-09 ${String(hour).padStart(2, "0")}:0${i}:00`,
          to: `${contact}@example.com`,
          sendmail_id: sendmailId,
          header1_value: chid(contact),
        }),
      );
    const before = (await streamIds()).length;
    // Seven events applied two at a time: four writes of sums.
    await storeRows("opens", opens("batch1", "SM-B1", [1, 2, 2]));
    await storeRows("opens", opens("batch2", "SM-B2", [5, 5, 6, 7]));
    expect(await applyNewEvents(deps, CHANNEL, 2)).toEqual({ applied: 7, published: 7 });
    // And in the background, nudged after each import, three at a time.
    const applying = applyInBackground(deps, CHANNEL, 3);
    for (const [contact, sendmailId] of [
      ["batch1", "SM-B1"],
      ["batch2", "SM-B2"],
    ] as const) {
      await storeRows("opens", opens(contact, sendmailId, [8, 9, 10, 11]));
      applying.nudge();
    }
    expect(await applying.finish()).toEqual({ applied: 8, published: 8 });
    expect(await getContactEngagement(pool, CHANNEL, "batch1@example.com")).toMatchObject({
      opened: 7,
      openPeakHour: 2,
    });
    expect(await getContactEngagement(pool, CHANNEL, "batch2@example.com")).toMatchObject({
      opened: 8,
      openPeakHour: 5,
    });
    const { rows } = await pool.query(
      "SELECT contact_id, opens FROM offer_history WHERE contact_id LIKE 'batch%' ORDER BY 1",
    );
    expect(rows).toEqual([
      { contact_id: "batch1", opens: 7 },
      { contact_id: "batch2", opens: 8 },
    ]);
    expect((await streamIds()).length).toBe(before + 15);
  });

  it("takes two applies of a channel at once in turn, each event applied and published once", async () => {
    const before = (await streamIds()).length;
    const rows = Array.from({ length: 40 }, (_, i) =>
      reportRow("sent", {
        date_sent: `2024-03-10 08:00:${String(i).padStart(2, "0")}`,
        to: `turn${i}@example.com`,
        sendmail_id: `SM-TURN${i}`,
        header1_value: chid(`turn${i}`),
      }),
    );
    await storeRows("sent", rows);
    const results = await Promise.all([
      applyNewEvents(deps, CHANNEL, 7),
      applyNewEvents(deps, CHANNEL, 7),
    ]);
    // In turn: the first to take the channel's apply applies all 40, the other finds none.
    expect(results.map((r) => r.applied).sort((a, b) => a - b)).toEqual([0, 40]);
    expect(results.reduce((sum, r) => sum + r.published, 0)).toBe(40);
    const { rows: history } = await pool.query(
      "SELECT count(*)::int AS n, sum(CASE WHEN state = 'sent' THEN 1 END)::int AS sent FROM offer_history WHERE contact_id LIKE 'turn%'",
    );
    expect(history).toEqual([{ n: 40, sent: 40 }]);
    expect(await getContactEngagement(pool, CHANNEL, "turn7@example.com")).toMatchObject({
      sent: 1,
    });
    expect((await streamIds()).length).toBe(before + 40);
  });
});

describe("reading stored events", () => {
  it("reads in a transaction of its own, and throws if left mid-COPY so the connection is closed", async () => {
    const client = await pool.connect();
    try {
      let read = 0;
      for await (const batch of readStoredEvents(client, CHANNEL, 0, 1_000_000)) {
        read += batch.length;
        expect(batch.every((e) => e.executionId === null || e.offerId === offerId)).toBe(true);
      }
      expect(read).toBeGreaterThan(1);
      // Its planner settings ended with it, and the connection takes statements again.
      expect((await client.query("SHOW enable_seqscan")).rows[0].enable_seqscan).toBe("on");
    } finally {
      client.release();
    }
    const left = await pool.connect();
    let error: unknown;
    try {
      for await (const _ of readStoredEvents(left, CHANNEL, 0, 1_000_000)) break;
    } catch (e) {
      error = e;
    }
    left.release(true);
    expect(String(error)).toContain("events read left before its end");
  });
});

describe("API sync", () => {
  it("fails on a report LuxSci stops serving, after storing, applying and passing the watermarks of those before it", async () => {
    const page = (kind: ReportKind, first: number, rows: ReportRow[]): ReportPage => ({
      kind,
      matchesTotal: 15,
      matchesReturned: rows.length,
      first,
      firstRow: first,
      header: [...REPORT_HEADERS[kind]],
      rows,
    });
    const contacts = Array.from({ length: 15 }, (_, i) => i);
    const row = (kind: ReportKind, i: number) =>
      reportRow(kind, {
        date_sent: `2024-04-01 08:00:${String(i).padStart(2, "0")}`,
        last_updated: `2024-04-01 09:00:${String(i).padStart(2, "0")}`,
        to: `api${i}@example.com`,
        sendmail_id: `SM-API${i}`,
        header1_value: chid(`api${i}`),
      });
    // Pages of 5, PAGES_PER_IMPORT (2) pages per import.
    const pages = (kind: ReportKind) =>
      [0, 5, 10].map((first) =>
        page(
          kind,
          first,
          contacts.slice(first, first + 5).map((i) => row(kind, i)),
        ),
      );
    async function* iterateReport(kind: ReportKind) {
      if (kind === "sent") yield* pages("sent");
      // The delivery report fails after its first page: the import of its first two pages
      // (one transaction) stores nothing, and its watermark stays.
      if (kind === "delivery") {
        yield pages("delivery")[0] as ReportPage;
        throw new Error("LuxSci stopped serving the delivery report");
      }
    }
    await withStandInApiSync(deps, db.url, iterateReport, async (syncDeps) => {
      await expect(syncChannelByApi(syncDeps, CHANNEL, { pageSize: 5 })).rejects.toThrow(
        "LuxSci stopped serving the delivery report",
      );
      const watermarks = await syncDeps.prisma.syncWatermark.findMany({
        where: { channelId: CHANNEL },
      });
      expect(watermarks.map((w) => w.reportType)).toEqual(["sent"]);
      const stored = await pool.query(
        "SELECT type::text, count(*)::int AS n FROM email_event WHERE sendmail_id LIKE 'SM-API%' GROUP BY 1 ORDER BY 1",
      );
      expect(stored.rows).toEqual([{ type: "sent", n: 15 }]);
      const history = await pool.query(
        "SELECT state::text, count(*)::int AS n FROM offer_history WHERE contact_id LIKE 'api%' GROUP BY 1",
      );
      expect(history.rows).toEqual([{ state: "sent", n: 15 }]);
    });
  });
});
