import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLogger } from "@luxrelay/logger";
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
import {
  IMPORTED_COLUMNS,
  importReportRows,
  ReportFileError,
  readReportCsv,
  type SourcedRow,
} from "../src/import/index.ts";

// Export files (seed 000 inbound steps 2-6): CSV with the report's header row. Malformed
// records are reported with file and line, and every other record is imported.

const CHANNEL = "00112233445566778899aabbccddeeff";
const dir = mkdtempSync(join(tmpdir(), "lr-import-csv-"));

let db: TestDatabase;
let queues: TestQueues;
let pool: pg.Pool;
let executionId: number;
let offerId: number;

function csvField(value: string | number | null): string {
  if (value === null) return "";
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** A clicks report line in the simulator's column order (sendmail_id after the headers). */
function clickLine(n: number, overrides: Record<string, string | number | null> = {}): string {
  const values: Record<string, string | number | null> = {
    date_sent: "2024-05-01 10:00:00",
    click_date: `2024-05-01 11:00:${String(n).padStart(2, "0")}`,
    url: `https://shop.example.com/?item=${n}&a=1,2`,
    clicker_ip: "180.190.229.9",
    user_agent: 'Mozilla/5.0 (X11; "quoted")',
    user: "bench",
    user_id: "163972",
    subject: "Zürich, summer",
    from: "news@example.com",
    to: `user${n}@example.com`,
    status: "Delivered",
    header1: "chid",
    header1_value: `${executionId}_${offerId}_${CHANNEL}_contact_${n}`,
    header2: "rpid",
    header2_value: "M",
    header3: "offername",
    header3_value: "June Sales",
    sendmail_id: `SMC${n}`,
    template_id: "330654",
    ...overrides,
  };
  return REPORT_HEADERS.clicks.map((name) => csvField(values[name] ?? null)).join(",");
}

async function collect(path: string): Promise<SourcedRow[]> {
  const rows: SourcedRow[] = [];
  for await (const row of readReportCsv(path)) rows.push(row);
  return rows;
}

beforeAll(async () => {
  db = await createTestDatabase({ migrated: true });
  queues = createTestQueues();
  pool = new pg.Pool({ connectionString: db.url, max: 2 });
  await pool.query(
    `INSERT INTO channel (id, name, luxsci_user, luxsci_token, luxsci_secret_enc, from_address, updated_at)
     VALUES ($1, 'csv', 'u', 't', 'v1:a:b:c', 'news@example.com', now())`,
    [CHANNEL],
  );
  const { rows } = await pool.query(
    `WITH c AS (INSERT INTO campaign (name, updated_at) VALUES ('May', now()) RETURNING id),
          o AS (INSERT INTO offer (campaign_id, name, updated_at) SELECT id, 'Sale', now() FROM c RETURNING id)
     INSERT INTO execution (offer_id, channel_id, audience, updated_at)
     SELECT id, $1, '{}', now() FROM o RETURNING id, offer_id`,
    [CHANNEL],
  );
  executionId = rows[0].id;
  offerId = rows[0].offer_id;
  await pool.query(
    "INSERT INTO tracking (tracking_id, execution_id, offer_id, channel_id) VALUES ($1, $2, $3, $4)",
    [`${executionId}_${offerId}_${CHANNEL}`, executionId, offerId, CHANNEL],
  );
});

afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  await queues?.connection.del(eventsStreamKey(queues.prefix));
  await queues?.cleanup();
  await pool?.end();
  await db?.drop();
});

describe("readReportCsv", () => {
  it("keys rows by the file's header, whatever its column order, with quoted fields", async () => {
    const path = join(dir, "reordered.csv");
    writeFileSync(
      path,
      '\uFEFFto,sendmail_id,details,status\r\nann@example.com,SM1,"said ""OK"",\r\nqueued",Delivered\r\nbo@example.com,SM2,,HardFail',
    );
    expect(await collect(path)).toEqual([
      {
        line: 2,
        row: {
          to: "ann@example.com",
          sendmail_id: "SM1",
          details: 'said "OK",\r\nqueued',
          status: "Delivered",
        },
      },
      {
        line: 4,
        row: { to: "bo@example.com", sendmail_id: "SM2", details: "", status: "HardFail" },
      },
    ]);
  });

  it("keeps only the columns asked for, and still checks every record's field count", async () => {
    const path = join(dir, "projected.csv");
    writeFileSync(
      path,
      'to,subject,sendmail_id,details\r\nann@example.com,Hi,SM1,"a,b"\r\nbo@example.com,Hi,SM2\r\n',
    );
    const rows: SourcedRow[] = [];
    for await (const row of readReportCsv(path, { columns: ["sendmail_id", "details"] })) {
      rows.push(row);
    }
    expect(rows).toEqual([
      { line: 2, row: { sendmail_id: "SM1", details: "a,b" } },
      {
        line: 3,
        row: { sendmail_id: "SM2" },
        defect: { field: "(row)", message: "3 fields, the header has 4" },
      },
    ]);
  });

  it("refuses a file whose header row is unreadable", async () => {
    const path = join(dir, "bad-header.csv");
    writeFileSync(path, Buffer.from([0x74, 0x6f, 0xff, 0x0a, 0x61, 0x0a]));
    await expect(collect(path)).rejects.toThrow(ReportFileError);
  });

  it("reads records that straddle read chunks", async () => {
    const path = join(dir, "large.csv");
    const lines = [REPORT_HEADERS.clicks.join(",")];
    for (let n = 0; n < 20_000; n++) lines.push(clickLine(n % 60));
    writeFileSync(path, `${lines.join("\r\n")}\r\n`);
    const rows = await collect(path);
    expect(rows).toHaveLength(20_000);
    expect(
      rows.every(
        (r) => r.defect === undefined && r.row.user_agent === 'Mozilla/5.0 (X11; "quoted")',
      ),
    ).toBe(true);
    expect(rows[19_999]?.line).toBe(20_001);
  });

  it("an unbalanced quote costs its own line: reading goes on at the next, to the end of the file", async () => {
    const path = join(dir, "unbalanced.csv");
    const lines = [REPORT_HEADERS.clicks.join(",")];
    for (let n = 0; n < 20_000; n++) {
      // Line 12: a quote opened and never closed (a subject LuxSci did not quote), early in a
      // file of several read chunks. Line 15_002: a quoted field that spans two lines.
      if (n === 10) lines.push(clickLine(n).replace('"Zürich, summer"', '"Zürich, summer'));
      else if (n === 15_000) lines.push(clickLine(n, { subject: "two\r\nlines" }));
      else lines.push(clickLine(n % 60));
    }
    writeFileSync(path, `${lines.join("\r\n")}\r\n`);
    const rows = await collect(path);
    expect(rows).toHaveLength(20_000);
    const defects = rows.filter((r) => r.defect !== undefined);
    expect(defects).toEqual([
      {
        line: 12,
        row: {},
        defect: { field: "(row)", message: expect.stringMatching(/^unbalanced quote/) },
      },
    ]);
    expect(rows[11]).toMatchObject({
      line: 13,
      row: { user_agent: 'Mozilla/5.0 (X11; "quoted")' },
    });
    expect(rows[15_000]).toMatchObject({ line: 15_002, row: { subject: "two\r\nlines" } });
    expect(rows[19_999]?.line).toBe(20_002);
  });

  it("a stray quote inside a value, or one at the end of the file, is its line's problem only", async () => {
    const path = join(dir, "stray.csv");
    writeFileSync(
      path,
      'to,subject,sendmail_id\r\na@x.com,6" nails,SM1\r\nb@x.com,ok,SM2\r\nc@x.com,"end,SM3',
    );
    expect(await collect(path)).toEqual([
      {
        line: 2,
        row: {},
        defect: { field: "(row)", message: expect.stringMatching(/^unbalanced quote/) },
      },
      { line: 3, row: { to: "b@x.com", subject: "ok", sendmail_id: "SM2" } },
      {
        line: 4,
        row: {},
        defect: { field: "(row)", message: expect.stringMatching(/^unbalanced quote/) },
      },
    ]);
  });
});

describe("importReportRows from an export file", () => {
  it("reports malformed lines with file and line and imports every other row", async () => {
    const name = "1689671756-1485-20872.csv";
    const path = join(dir, name);
    const good = (n: number) => Buffer.from(`${clickLine(n)}\r\n`);
    const parts = [
      Buffer.from(`${REPORT_HEADERS.clicks.join(",")}\r\n`), // line 1
      good(1), // line 2
      Buffer.from(`${clickLine(2).split(",").slice(0, -3).join(",")}\r\n`), // 3: missing columns
      good(3), // line 4
      Buffer.from(`${clickLine(4, { click_date: "01/05/2024 11:00" })}\r\n`), // 5: bad date
      Buffer.concat([Buffer.from(clickLine(5).replace("Zürich", "Z")), Buffer.from([0xfc])]),
      Buffer.from("\r\n"), // line 6: a Latin-1 byte, not UTF-8
      good(6), // line 7
      Buffer.from(`${clickLine(7, { sendmail_id: null })}\r\n`), // 8: no sendmail id
      good(8), // line 9
    ];
    writeFileSync(path, Buffer.concat(parts));

    const result = await importReportRows(
      {
        pool,
        redis: queues.connection,
        queuePrefix: queues.prefix,
        logger: createLogger({ level: "silent" }),
      },
      {
        channelId: CHANNEL,
        kind: "clicks",
        // As export mode reads a file: only the columns the import uses.
        rows: readReportCsv(path, { columns: IMPORTED_COLUMNS }),
        source: `file ${name}`,
      },
    );
    expect(result).toMatchObject({ offered: 8, inserted: 4, rejected: 4, notOurs: 0 });
    expect(result.problems).toEqual([
      {
        source: `file ${name}`,
        line: 3,
        field: "(row)",
        message: `${REPORT_HEADERS.clicks.length - 3} fields, the header has ${REPORT_HEADERS.clicks.length}`,
      },
      {
        source: `file ${name}`,
        line: 5,
        field: "click_date",
        message: expect.stringContaining("01/05/2024"),
      },
      { source: `file ${name}`, line: 6, field: "(row)", message: "invalid UTF-8" },
      { source: `file ${name}`, line: 8, field: "sendmail_id", message: "missing" },
    ]);
    const { rows } = await pool.query(
      "SELECT sendmail_id, contact_id, url, user_agent FROM email_event WHERE sendmail_id LIKE 'SMC%' ORDER BY sendmail_id",
    );
    expect(rows).toEqual(
      [1, 3, 6, 8].map((n) => ({
        sendmail_id: `SMC${n}`,
        contact_id: `contact_${n}`,
        url: `https://shop.example.com/?item=${n}&a=1,2`,
        user_agent: 'Mozilla/5.0 (X11; "quoted")',
      })),
    );
  });

  it("a line with an unbalanced quote among thousands: it is rejected with file and line, every other row imported once", async () => {
    const name = "1689671757-1485-30000.csv";
    const path = join(dir, name);
    const ROWS = 6_000;
    const BROKEN = 7; // 0-based row: file line 9
    const lines = [REPORT_HEADERS.clicks.join(",")];
    for (let n = 0; n < ROWS; n++) {
      const line = clickLine(n, {
        sendmail_id: `SMU${n}`,
        click_date: `2024-05-02 ${String(Math.floor(n / 3600) % 24).padStart(2, "0")}:${String(Math.floor(n / 60) % 60).padStart(2, "0")}:${String(n % 60).padStart(2, "0")}`,
        header1_value: `${executionId}_${offerId}_${CHANNEL}_u${n}`,
      });
      lines.push(n === BROKEN ? line.replace('"Zürich, summer"', '"Zürich, summer') : line);
    }
    writeFileSync(path, `${lines.join("\r\n")}\r\n`);
    const deps = {
      pool,
      redis: queues.connection,
      queuePrefix: queues.prefix,
      logger: createLogger({ level: "silent" }),
    };
    const importFile = () =>
      importReportRows(deps, {
        channelId: CHANNEL,
        kind: "clicks",
        rows: readReportCsv(path, { columns: IMPORTED_COLUMNS }),
        source: `file ${name}`,
        expectedRows: ROWS,
      });
    const first = await importFile();
    expect(first).toMatchObject({ offered: ROWS, inserted: ROWS - 1, rejected: 1, notOurs: 0 });
    expect(first.problems).toEqual([
      {
        source: `file ${name}`,
        line: BROKEN + 2,
        field: "(row)",
        message: expect.stringMatching(/^unbalanced quote/),
      },
    ]);
    // Imported again (a retried step): nothing more.
    expect(await importFile()).toMatchObject({ inserted: 0, rejected: 1 });
    const { rows } = await pool.query<{ events: number; distinct: number; broken: number }>(
      `SELECT count(*)::int AS events, count(DISTINCT sendmail_id)::int AS distinct,
              count(*) FILTER (WHERE sendmail_id = $1)::int AS broken
         FROM email_event WHERE sendmail_id LIKE 'SMU%'`,
      [`SMU${BROKEN}`],
    );
    expect(rows[0]).toEqual({ events: ROWS - 1, distinct: ROWS - 1, broken: 0 });
  });
});
