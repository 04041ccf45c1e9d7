import { createWriteStream, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { copyRows } from "@luxrelay/db";
import {
  applyNewEvents,
  eventsStreamKey,
  IMPORTED_COLUMNS,
  type InboundDeps,
  importReportRows,
  PAGES_PER_IMPORT,
  publishNewEvents,
  readReportCsv,
  syncChannelByApi,
} from "@luxrelay/inbound";
import { withStandInApiSync } from "@luxrelay/inbound/testing";
import { createLogger } from "@luxrelay/logger";
import type { ReportKind, ReportPage, ReportRow } from "@luxrelay/luxsci";
// The simulator's exact report columns.
import { REPORT_HEADERS } from "@luxrelay/luxsci-sim";
import {
  createTestDatabase,
  createTestQueues,
  ensureTemplateDatabase,
  type TestDatabase,
} from "@luxrelay/testkit";
import pg from "pg";
import { writeBenchmarkSection } from "./report.ts";

// Event import (seed 000 inbound steps 6-9, 11): N report events of every kind into a fresh
// database holding one execution with tracking and R recipients, each path into its own
// database: (a) from export CSV files on disk, as export mode does it: two export jobs at a
// time (LUXSCI_MAX_EXPORT_JOBS and WORKER_CONCURRENCY_REPORTS default to 2), each importing its
// file and then applying the channel's new events (stepExportJob's "downloaded" and "imported"
// steps); (b) from API pages of 50,000 rows, as API mode does it: syncChannelByApi itself, with
// a stand-in LuxSci client that serves pages built before the clock starts.
// Timed: until every event is stored, applied (offer history, suppression, engagement) and on
// the events stream; not the writing of the files or the building of the pages.
// npx tsx bench/import.ts --events 1000000 (BENCH_KEEP_DB=1 keeps each path's database and
// prints its URL, to look at plans afterwards; drop it by hand. BENCH_TRACE=1 prints each
// import and apply to stderr as it ends, with its phases: the timeline of a run.)

const { values } = parseArgs({
  options: {
    events: { type: "string", default: "1000000" },
    recipients: { type: "string", default: "100000" },
    "page-size": { type: "string", default: "50000" },
    "no-write": { type: "boolean", default: false },
    /** Run one path only (csv or api), for a quicker look; never writes BENCHMARKS.md. */
    only: { type: "string" },
  },
});
const totalEvents = Number(values.events);
const recipients = Number(values.recipients);
const pageSize = Number(values["page-size"]);
const CHANNEL = "0123456789abcdef0123456789abcdef";
const BASE_MS = Date.UTC(2026, 10, 1);

// The mix of the brief: 25% sent, 25% delivery, 30% opens, 15% clicks, 5% fbl.
const MIX: [ReportKind, number][] = [
  ["sent", 0.25],
  ["delivery", 0.25],
  ["opens", 0.3],
  ["clicks", 0.15],
  ["fbl", 0.05],
];
const counts = Object.fromEntries(
  MIX.map(([kind, share]) => [kind, Math.round(totalEvents * share)]),
) as Record<ReportKind, number>;
const messages = counts.sent;

function gmt(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19).replace("T", " ");
}

function deliveryStatus(m: number): string {
  if (m % 50 === 0) return "HardFail";
  if (m % 97 === 0) return "Spam";
  if (m % 89 === 0) return "Failed";
  return "Delivered";
}

interface Fixture {
  executionId: number;
  offerId: number;
}

/**
 * The message row `i` of `kind` is about: sent and delivery rows one each, in order; opens,
 * clicks and complaints spread over the messages. Message m is sent to contact m % recipients.
 */
function messageOf(kind: ReportKind, i: number): number {
  if (kind === "opens") return (i * 7) % messages;
  if (kind === "clicks") return (i * 13) % messages;
  if (kind === "fbl") return (i * 11) % messages;
  return i;
}

/** The cells of row `i` of `kind`, by column name (the simulator's value formats). */
function cellsOf(kind: ReportKind, i: number, fx: Fixture): Record<string, string | number | null> {
  const m = messageOf(kind, i);
  const contact = m % recipients;
  const sentMs = BASE_MS + m * 1000;
  const common = {
    user: "bench",
    user_id: "163972",
    from_ip: "180.190.229.9",
    subject: "June Sales for you",
    from: "news@example.com",
    to: `user${contact}@example.com`,
    sendmail_id: `37H8GG${m.toString(36).padStart(6, "0")}i7`,
    template_id: "330654",
    date_sent: gmt(sentMs),
    status: deliveryStatus(m),
    header1: "chid",
    header1_value: `${fx.executionId}_${fx.offerId}_${CHANNEL}_C${contact}`,
    header2: "rpid",
    header2_value: "M",
    header3: "offername",
    header3_value: "June Sales",
  };
  switch (kind) {
    case "sent":
      return {
        ...common,
        used_tls: 1,
        n_recipients: 1,
        size_bytes: 1455,
        spam: 0,
        high_volume: 1,
        secureline: 1,
        opt_out: 0,
      };
    case "delivery":
      return {
        ...common,
        n_recipients: 1,
        size_bytes: 1455,
        details:
          common.status === "Delivered"
            ? "gmail-smtp-in.l.google.com said 'Sent (OK 1689581778 l23-20020a63ba57000000b005578c6a767esi11084815pgu.885 - gsmtp'"
            : "550 5.1.1 The email account that you tried to reach does not exist",
        last_updated: gmt(sentMs + 60_000),
        secureline: 4,
        tls_delivery: 1,
        tls_details: "TLSv1.3: cipher=TLS_AES_256_GCM_SHA384, bits=256/256",
        Opens: 1,
        Clicks: 0,
        Unsubscribed: m % 200 === 1 ? 1 : 0,
      };
    case "opens":
      return {
        ...common,
        open_date: gmt(sentMs + 3_600_000 + i * 1000),
        opener_ip: "69.147.89.136",
        user_agent: "YahooMailProxy; https://help.yahoo.com/kb/yahoo-mail-proxy-SLN28749.html",
      };
    case "clicks":
      return {
        ...common,
        click_date: gmt(sentMs + 7_200_000 + i * 1000),
        url: `http://www.example.com/offer?id=${i % 20}`,
        clicker_ip: "180.190.229.9",
        user_agent:
          "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/114.0.0.0 Safari/537.36",
      };
    case "fbl":
      return { ...common, complaint_date: gmt(sentMs + 86_400_000), feedback_type: "abuse" };
  }
}

function reportRow(kind: ReportKind, i: number, fx: Fixture): ReportRow {
  const cells = cellsOf(kind, i, fx);
  const row: ReportRow = {};
  for (const name of REPORT_HEADERS[kind]) row[name] = cells[name] ?? null;
  return row;
}

function csvField(value: string | number | null | boolean): string {
  if (value === null) return "";
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

async function writeCsv(path: string, kind: ReportKind, fx: Fixture): Promise<void> {
  const out = createWriteStream(path);
  const header = REPORT_HEADERS[kind];
  out.write(`${header.join(",")}\r\n`);
  for (let i = 0; i < counts[kind]; i++) {
    const row = reportRow(kind, i, fx);
    const line = `${header.map((name) => csvField(row[name] ?? null)).join(",")}\r\n`;
    if (!out.write(line)) await new Promise<void>((resolve) => out.once("drain", resolve));
  }
  await new Promise<void>((resolve) => out.end(resolve));
}

/** A database with one channel, execution, tracking row and the recipients. */
async function prepareDatabase(): Promise<{ db: TestDatabase; pool: pg.Pool; fx: Fixture }> {
  const db = await createTestDatabase();
  // Two imports under way and the applies (two connections each), as the worker's pool allows.
  const pool = new pg.Pool({ connectionString: db.url, max: 6 });
  await pool.query(
    `INSERT INTO channel (id, name, luxsci_user, luxsci_token, luxsci_secret_enc, from_address, updated_at)
     VALUES ($1, 'bench', 'u', 't', 'v1:a:b:c', 'news@example.com', now())`,
    [CHANNEL],
  );
  const { rows } = await pool.query(
    `WITH c AS (INSERT INTO campaign (name, updated_at) VALUES ('bench', now()) RETURNING id),
          o AS (INSERT INTO offer (campaign_id, name, updated_at) SELECT id, 'bench', now() FROM c RETURNING id)
     INSERT INTO execution (offer_id, channel_id, audience, updated_at, status)
     SELECT id, $1, '{}', now(), 'completed' FROM o RETURNING id, offer_id`,
    [CHANNEL],
  );
  const fx: Fixture = { executionId: rows[0].id, offerId: rows[0].offer_id };
  await pool.query(
    "INSERT INTO tracking (tracking_id, execution_id, offer_id, channel_id) VALUES ($1, $2, $3, $4)",
    [`${fx.executionId}_${fx.offerId}_${CHANNEL}`, fx.executionId, fx.offerId, CHANNEL],
  );
  const client = await pool.connect();
  try {
    await copyRows(client, {
      table: "recipient",
      columns: ["execution_id", "contact_id", "email", "batch_seq", "chid", "state"],
      rows: (function* () {
        for (let c = 0; c < recipients; c++) {
          const chid = `${fx.executionId}_${fx.offerId}_${CHANNEL}_C${c}`;
          yield [
            fx.executionId,
            `C${c}`,
            `user${c}@example.com`,
            1 + Math.floor(c / 1000),
            chid,
            "sent",
          ];
        }
      })(),
    });
  } finally {
    client.release();
  }
  return { db, pool, fx };
}

/** Peak RSS while `fn` runs, sampled every 50 ms. */
async function withPeakRss<T>(fn: () => Promise<T>): Promise<{ value: T; peakMb: number }> {
  let peak = process.memoryUsage().rss;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 50);
  try {
    const value = await fn();
    peak = Math.max(peak, process.memoryUsage().rss);
    return { value, peakMb: Math.round(peak / 2 ** 20) };
  } finally {
    clearInterval(timer);
  }
}

/** Phase times (ms, summed over imports) from the import's "report rows imported" log lines. */
type Phases = Record<string, number>;

const PHASES = [
  ["stageMs", "parse+COPY"],
  ["lockMs", "wait for the channel's lock"],
  ["insertMs", "email_event"],
  ["applyLockMs", "apply: wait for the channel's apply before"],
  ["readMs", "apply: read, sum and publish to the stream"],
  ["offerHistoryMs", "offer history"],
  ["suppressionMs", "suppression"],
  ["engagementMs", "engagement"],
  ["publishMs", "publish only (export mode, the other file importing)"],
] as const;
const PHASE_MESSAGES = new Set([
  "report rows imported",
  "new events applied",
  "new events published",
]);

/** A logger destination that sums the phases of every import and apply, passing others on. */
function phaseCollector(phases: Phases) {
  return {
    write(line: string) {
      const entry = JSON.parse(line) as Record<string, unknown>;
      if (PHASE_MESSAGES.has(entry.msg as string)) {
        if (process.env.BENCH_TRACE)
          console.error(
            "TRACE",
            entry.time,
            entry.msg,
            entry.kind ?? "",
            entry.ms,
            JSON.stringify(
              Object.fromEntries(Object.entries(entry).filter(([k]) => k.endsWith("Ms"))),
            ),
          );
        for (const [name] of PHASES) {
          const ms = entry[name];
          if (typeof ms === "number") phases[name] = (phases[name] ?? 0) + ms;
        }
      } else {
        process.stdout.write(line);
      }
    },
  };
}

interface PathFigures {
  phases: Phases;
  seconds: number;
  peakMb: number;
  /** CPU seconds of this process (all threads) and of Redis while the clock ran. */
  nodeCpu: number;
  redisCpu: number;
  tables: Record<string, number>;
  streamLength: number;
}

interface PathContext {
  deps: InboundDeps;
  db: TestDatabase;
  pool: pg.Pool;
  fx: Fixture;
}

async function runPath(
  name: string,
  run: (context: PathContext) => Promise<void>,
  beforeTiming?: (fx: Fixture) => Promise<void>,
): Promise<PathFigures> {
  const { db, pool, fx } = await prepareDatabase();
  const queues = createTestQueues();
  const phases: Phases = {};
  const deps: InboundDeps = {
    pool,
    redis: queues.connection,
    queuePrefix: queues.prefix,
    logger: createLogger({
      name: "bench-import",
      level: process.env.BENCH_LOG ?? "info",
      destination: phaseCollector(phases),
    }),
  };
  try {
    await beforeTiming?.(fx);
    const redisCpu = async () => {
      const info = await queues.connection.info("cpu");
      const seconds = (name: string) => Number(info.match(new RegExp(`${name}:([\\d.]+)`))?.[1]);
      return seconds("used_cpu_user") + seconds("used_cpu_sys");
    };
    const redisBefore = await redisCpu();
    const cpuBefore = process.cpuUsage();
    const started = performance.now();
    const { peakMb } = await withPeakRss(() => run({ deps, db, pool, fx }));
    const seconds = (performance.now() - started) / 1000;
    const cpu = process.cpuUsage(cpuBefore);
    const nodeCpu = (cpu.user + cpu.system) / 1e6;
    const redisSeconds = (await redisCpu()) - redisBefore;
    const tables: Record<string, number> = {};
    for (const table of ["email_event", "offer_history", "suppression", "contact_engagement"]) {
      const { rows } = await pool.query(`SELECT count(*)::int AS n FROM ${table}`);
      tables[table] = rows[0].n;
    }
    const streamLength = await queues.connection.xlen(eventsStreamKey(queues.prefix));
    const figures: PathFigures = {
      phases,
      seconds,
      peakMb,
      nodeCpu,
      redisCpu: redisSeconds,
      tables,
      streamLength,
    };
    console.log(name, JSON.stringify(figures));
    return figures;
  } finally {
    await queues.connection.del(eventsStreamKey(queues.prefix));
    await queues.cleanup();
    await pool.end();
    if (process.env.BENCH_KEEP_DB) console.log("kept", db.url);
    else await db.drop();
  }
}

/**
 * Export mode's import and apply steps for each file, `EXPORT_JOBS` files at a time: as
 * stepExportJob, a job whose file is imported while another job is importing its own only
 * publishes its events; the other applies both.
 */
const EXPORT_JOBS = 2;

async function importFiles({ deps }: PathContext): Promise<void> {
  const waiting = [...kinds];
  let importing = 0;
  const job = async () => {
    for (let kind = waiting.shift(); kind !== undefined; kind = waiting.shift()) {
      importing++;
      try {
        await importReportRows(deps, {
          channelId: CHANNEL,
          kind,
          rows: readReportCsv(join(dir, `${kind}.csv`), { columns: IMPORTED_COLUMNS }),
          source: `file ${kind}.csv`,
        });
      } finally {
        importing--;
      }
      if (importing > 0) await publishNewEvents(deps, CHANNEL);
      else await applyNewEvents(deps, CHANNEL);
    }
  };
  await Promise.all(Array.from({ length: EXPORT_JOBS }, job));
}

/** gmt() with the date part cached: page rows come in runs of the same day. */
let gmtDay = Number.NaN;
let gmtDayPrefix = "";
function fastGmt(ms: number): string {
  const day = Math.floor(ms / 86_400_000);
  if (day !== gmtDay) {
    gmtDay = day;
    gmtDayPrefix = gmt(day * 86_400_000).slice(0, 11);
  }
  const s = Math.floor((ms - day * 86_400_000) / 1000);
  const two = (n: number) => (n < 10 ? `0${n}` : `${n}`);
  return `${gmtDayPrefix}${two(Math.floor(s / 3600))}:${two(Math.floor(s / 60) % 60)}:${two(s % 60)}`;
}

/**
 * Row `i` of `kind` as reportRow builds it, several times faster: a copy of row 0 with the
 * cells that vary set again (the pages of a million rows are built before the clock starts).
 */
function pageRow(kind: ReportKind, i: number, fx: Fixture, template: ReportRow): ReportRow {
  const m = messageOf(kind, i);
  const contact = m % recipients;
  const sentMs = BASE_MS + m * 1000;
  // A keyed copy: ~8 times faster than {...template} here.
  const row: ReportRow = {};
  for (const name of REPORT_HEADERS[kind]) row[name] = template[name] ?? null;
  row.to = `user${contact}@example.com`;
  row.sendmail_id = `37H8GG${m.toString(36).padStart(6, "0")}i7`;
  row.date_sent = fastGmt(sentMs);
  row.header1_value = `${fx.executionId}_${fx.offerId}_${CHANNEL}_C${contact}`;
  if ("status" in row) row.status = deliveryStatus(m);
  if (kind === "delivery") {
    row.details =
      row.status === "Delivered"
        ? "gmail-smtp-in.l.google.com said 'Sent (OK 1689581778 l23-20020a63ba57000000b005578c6a767esi11084815pgu.885 - gsmtp'"
        : "550 5.1.1 The email account that you tried to reach does not exist";
    row.last_updated = fastGmt(sentMs + 60_000);
    row.Unsubscribed = m % 200 === 1 ? 1 : 0;
  } else if (kind === "opens") {
    row.open_date = fastGmt(sentMs + 3_600_000 + i * 1000);
  } else if (kind === "clicks") {
    row.click_date = fastGmt(sentMs + 7_200_000 + i * 1000);
    row.url = `http://www.example.com/offer?id=${i % 20}`;
  } else if (kind === "fbl") {
    row.complaint_date = fastGmt(sentMs + 86_400_000);
  }
  return row;
}

/** Every report's pages as LuxSciClient returns them (rows keyed by the reply's header). */
function buildPages(fx: Fixture): Map<ReportKind, ReportPage[]> {
  const pages = new Map<ReportKind, ReportPage[]>();
  for (const kind of kinds) {
    const template = reportRow(kind, 0, fx);
    for (const i of [1, 4_321, counts[kind] - 1]) {
      const fast = JSON.stringify(pageRow(kind, i, fx, template));
      if (fast !== JSON.stringify(reportRow(kind, i, fx))) {
        throw new Error(`pageRow(${kind}, ${i}) differs from reportRow`);
      }
    }
    const list: ReportPage[] = [];
    for (let first = 0; first < counts[kind]; first += pageSize) {
      const rows: ReportRow[] = [];
      for (let i = first; i < Math.min(first + pageSize, counts[kind]); i++) {
        rows.push(pageRow(kind, i, fx, template));
      }
      list.push({
        kind,
        matchesTotal: counts[kind],
        matchesReturned: rows.length,
        first,
        firstRow: first,
        header: [...REPORT_HEADERS[kind]],
        rows,
      });
    }
    pages.set(kind, list);
  }
  return pages;
}

async function syncByApi({ deps, db }: PathContext, pages: Map<ReportKind, ReportPage[]>) {
  async function* iterateReport(kind: ReportKind) {
    yield* pages.get(kind) ?? [];
  }
  await withStandInApiSync(deps, db.url, iterateReport, (syncDeps) =>
    syncChannelByApi(syncDeps, CHANNEL, { pageSize }),
  );
}

await ensureTemplateDatabase();
const dir = mkdtempSync(join(tmpdir(), "lr-bench-import-"));
const kinds = MIX.map(([kind]) => kind);
let csvBytes = 0;
try {
  const only = values.only;
  const skipped = async (): Promise<PathFigures> => ({
    phases: {},
    seconds: Number.NaN,
    peakMb: 0,
    nodeCpu: 0,
    redisCpu: 0,
    tables: {},
    streamLength: 0,
  });
  const csv =
    only === "api"
      ? await skipped()
      : await runPath("csv", importFiles, async (fx) => {
          for (const kind of kinds) {
            await writeCsv(join(dir, `${kind}.csv`), kind, fx);
            csvBytes += statSync(join(dir, `${kind}.csv`)).size;
          }
        });
  rmSync(dir, { recursive: true, force: true });

  let pages = new Map<ReportKind, ReportPage[]>();
  const api =
    only === "csv"
      ? await skipped()
      : await runPath(
          "api",
          (context) => syncByApi(context, pages),
          async (fx) => {
            pages = buildPages(fx);
          },
        );
  pages.clear();

  const rate = (f: PathFigures) => Math.round(totalEvents / f.seconds).toLocaleString("en");
  const tableLine = (f: PathFigures) =>
    Object.entries(f.tables)
      .map(([table, n]) => `${table} ${n.toLocaleString("en")}`)
      .join(", ");
  const phaseLine = (name: string, f: PathFigures) =>
    `${name} phases (s, summed over imports and applies, which overlap): ${PHASES.map(
      ([key, label]) => `${label} ${((f.phases[key] ?? 0) / 1000).toFixed(1)}`,
    ).join(", ")}`;
  const lines = [
    `${totalEvents.toLocaleString("en")} report rows (sent ${counts.sent.toLocaleString("en")}, delivery ${counts.delivery.toLocaleString("en")} incl. HardFail/Spam/Failed and unsubscribes, opens ${counts.opens.toLocaleString("en")}, clicks ${counts.clicks.toLocaleString("en")}, fbl ${counts.fbl.toLocaleString("en")}) for 1 execution of ${recipients.toLocaleString("en")} recipients; each path into a fresh database`,
    `(a) 5 export CSV files (${Math.round(csvBytes / 2 ** 20)} MB) as export mode does: ${EXPORT_JOBS} export jobs at a time, each importReportRows(readReportCsv) then applyNewEvents (publishNewEvents only while the other job is importing): **${csv.seconds.toFixed(1)} s** (${rate(csv)} events/s; target ≤ 30 s), peak RSS ${csv.peakMb} MB`,
    `(b) ${Math.ceil(totalEvents / pageSize)} API pages of ≤ ${pageSize.toLocaleString("en")} keyed rows through syncChannelByApi (${PAGES_PER_IMPORT} pages per import, two imports under way, applies in the background): **${api.seconds.toFixed(1)} s** (${rate(api)} events/s; target ≤ 30 s), peak RSS ${api.peakMb} MB (the bench holds all the pages, built before the clock starts, ~2 GB of its heap; the sync holds a page at a time)`,
    `each path: ${(csv.tables.email_event ?? 0).toLocaleString("en")} / ${(api.tables.email_event ?? 0).toLocaleString("en")} events stored (report rows + unsubscribes from delivery rows); rows after: ${tableLine(api)}; events stream entries: ${csv.streamLength.toLocaleString("en")} / ${api.streamLength.toLocaleString("en")} (MAXLEN ~ ${(1_000_000).toLocaleString("en")})`,
    phaseLine("(a)", csv),
    phaseLine("(b)", api),
    `CPU while the clock ran (2 cores): this process (parsing, sums, all its threads) ${csv.nodeCpu.toFixed(1)} / ${api.nodeCpu.toFixed(1)} s, Redis (XADD) ${csv.redisCpu.toFixed(1)} / ${api.redisCpu.toFixed(1)} s, PostgreSQL the rest`,
    "timed: until every event is in email_event, offer history, suppression and contact_engagement and on the events stream",
  ];
  // With --only, the path's own line above is the result: these pair both paths.
  if (only === undefined) for (const line of lines) console.log(line);
  if (!values["no-write"] && only === undefined) {
    writeBenchmarkSection(
      "Event import (packages/inbound)",
      `npx tsx bench/import.ts --events ${totalEvents}`,
      lines,
    );
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
