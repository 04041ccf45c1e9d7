import { createReadStream, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { getConfigOrExit } from "@luxrelay/config";
import { createApiKey } from "@luxrelay/db";
import type { EventMetrics } from "@luxrelay/inbound";
import { DEMO_ACCOUNT } from "@luxrelay/luxsci-sim";
import pg from "pg";
import { DEMO_VARIANTS, writeDemoAudience } from "./audience.ts";
import { type AppProcess, portInUse, startApp, waitForHttp } from "./processes.ts";

// `npm run demo`: the simulator, the producer, two workers and the dashboard on localhost; a
// channel, an offer with three content variants and a 10,000-contact audience (with invalid,
// duplicate and suppressed rows) sent through the real pipeline; then the interaction log and
// the simulator's ledger; then one inbound sync brings the delivery events back into
// PostgreSQL and their counts are shown; then the dashboard URL. `--keep` leaves everything
// running.

const HELP = `npm run demo [-- --keep] [-- --contacts N]

Starts the LuxSci simulator, the producer API, two workers (send and reports) and the
dashboard, sends a generated campaign through them, syncs its delivery events back into
PostgreSQL, prints what happened, and stops everything again.

  --keep          leave the processes running (Ctrl-C stops them)
  --contacts N    audience size (default 10000)
  --sim-port N    simulator port (default 8025)
  --help          this text
`;

const { values } = parseArgs({
  options: {
    keep: { type: "boolean", default: false },
    contacts: { type: "string", default: "10000" },
    "sim-port": { type: "string", default: "8025" },
    help: { type: "boolean", default: false },
  },
});
if (values.help) {
  process.stdout.write(HELP);
  process.exit(0);
}

const config = getConfigOrExit();
const simPort = Number(values["sim-port"]);
const contacts = Number(values.contacts);
const host = "127.0.0.1";
const api = `http://${host}:${config.producerPort}`;
const dashboard = `http://${host}:${config.dashboard.port}`;
const say = (text: string) => process.stdout.write(`[demo] ${text}\n`);

for (const [name, port] of [
  ["simulator", simPort],
  ["producer", config.producerPort],
  ["dashboard", config.dashboard.port],
] as const) {
  if (await portInUse(host, port)) {
    process.stderr.write(
      `[demo] port ${port} (${name}) is in use: is a demo already running (--keep)? Stop it or free the port.\n`,
    );
    process.exit(1);
  }
}

const apps: AppProcess[] = [];
async function stopAll(): Promise<void> {
  await Promise.all([...apps].reverse().map((app) => app.stop()));
}
process.once("SIGINT", () => void stopAll().then(() => process.exit(130)));
process.once("SIGTERM", () => void stopAll().then(() => process.exit(143)));

/** A status line: rewritten in place on a terminal, a line per change in a log. */
function statusLine(): { show(line: string): void; end(): void } {
  let last = "";
  return {
    show(line) {
      if (line === last) return;
      process.stdout.write(process.stdout.isTTY ? `\r[demo] ${line}   ` : `[demo] ${line}\n`);
      last = line;
    },
    end() {
      if (process.stdout.isTTY) process.stdout.write("\n");
    },
  };
}

/** A poll's pause; throws if one of the demo's processes has died (nothing would move). */
async function pollPause(): Promise<void> {
  const dead = apps.find((app) => app.child.exitCode !== null || app.child.signalCode !== null);
  if (dead) throw new Error(`${dead.name} exited while the demo was waiting on it`);
  await new Promise((resolve) => setTimeout(resolve, 250));
}

/** The demo's own admin key, created in PostgreSQL below (as `npm run -s apikey` does). */
let apiKey = "";

async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const response = await fetch(`${api}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${apiKey}`,
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = (await response.json()) as T & { error?: { message?: string } };
  if (!response.ok)
    throw new Error(`${method} ${path}: ${response.status} ${json.error?.message ?? ""}`);
  return json;
}

try {
  const common = { LOG_LEVEL: "warn", HOST: host };
  const sim = startApp(
    "simulator",
    "luxsci-sim",
    ["--port", String(simPort), "--event-delay-scale", "0.01"],
    common,
  );
  apps.push(sim);
  await waitForHttp(`http://${host}:${simPort}/__sim/stats`, sim);
  // The simulator answers on http://: channels on it need LUXSCI_ALLOW_HTTP (LuxSci is https).
  const producer = startApp("producer", "producer", [], { ...common, LUXSCI_ALLOW_HTTP: "true" });
  const board = startApp("dashboard", "dashboard", [], common);
  apps.push(producer, board);
  // Worker 1 also runs housekeeping: sweeps and the reconciler (Redis rebuilt from PostgreSQL).
  for (let i = 1; i <= 2; i++) {
    const roles = i === 1 ? "send,reports,housekeeping" : "send,reports";
    apps.push(startApp(`worker ${i}`, "worker", [], { ...common, WORKER_QUEUES: roles }));
  }
  await waitForHttp(`${api}/healthz`, producer);
  await waitForHttp(`${dashboard}/healthz`, board);
  say(`simulator, producer, dashboard and 2 workers are up`);

  const stamp = new Date().toISOString().replace(/\D/g, "").slice(0, 14);
  const db = new pg.Client({ connectionString: config.databaseUrl });
  await db.connect();
  ({ key: apiKey } = await createApiKey(db, { name: `demo-${stamp}`, scope: "admin" }));
  say(`API key demo-${stamp} created (scope admin)`);
  const { channel } = await call<{ channel: { id: string } }>("POST", "/channels", {
    name: `demo-${stamp}`,
    apiUrl: `http://${host}:${simPort}/perl/api/v2`,
    luxsciUser: DEMO_ACCOUNT.user,
    luxsciToken: DEMO_ACCOUNT.token,
    luxsciSecret: DEMO_ACCOUNT.secret,
    fromAddress: "news@demo.luxrelay.example",
    fromName: "luxrelay demo",
    customHeaders: [["offername", "Spring rewards"]],
    autoSuppress: true,
    // Synced once below, on demand; no schedule keeps syncing it after the demo.
    syncEnabled: false,
  });
  const { test } = await call<{ test: { ok: boolean; ms: number; error?: string } }>(
    "POST",
    `/channels/${channel.id}/test`,
  );
  if (!test.ok) throw new Error(`channel connectivity test failed: ${test.error}`);
  say(`channel ${channel.id}: connectivity ${test.ok ? "ok" : "FAILED"} (${test.ms} ms)`);
  const { campaign } = await call<{ campaign: { id: number } }>("POST", "/campaigns", {
    name: `Demo ${stamp}`,
  });
  const { offer } = await call<{ offer: { id: number } }>(
    "POST",
    `/campaigns/${campaign.id}/offers`,
    {
      name: "Spring rewards",
      variantAttribute: "tier",
      seeds: ["proof@demo.luxrelay.example"],
    },
  );
  for (const [position, [key, variant]] of Object.entries(DEMO_VARIANTS).entries()) {
    await call("PUT", `/offers/${offer.id}/variants/${key}`, {
      ...variant,
      format: "both",
      position,
    });
  }

  const dir = mkdtempSync(join(tmpdir(), "luxrelay-demo-"));
  const audience = writeDemoAudience(join(dir, "audience.csv"), contacts);
  // Addresses a previous sync put on the suppression list (seed 000 inbound step 9).
  await db.query(
    `INSERT INTO suppression (email, source, reason)
     SELECT unnest($1::text[]), 'hard_fail', 'demo: earlier HardFail' ON CONFLICT DO NOTHING`,
    [audience.suppressed],
  );
  await db.end();
  const uploadResponse = await fetch(`${api}/audiences?format=csv`, {
    method: "POST",
    headers: { "content-type": "text/csv", authorization: `Bearer ${apiKey}` },
    body: createReadStream(audience.path) as unknown as RequestInit["body"],
    duplex: "half",
  } as RequestInit);
  const upload = (await uploadResponse.json()) as { audience: unknown; rows: number };
  if (!uploadResponse.ok) throw new Error(`upload failed: ${JSON.stringify(upload)}`);
  say(
    `audience uploaded: ${upload.rows} rows (${audience.contacts} contacts, ${audience.invalid} invalid, ${audience.duplicates} duplicates, ${audience.suppressed.length} suppressed)`,
  );

  const started = performance.now();
  const { execution } = await call<{ execution: { id: number } }>("POST", "/executions", {
    offerId: offer.id,
    channelId: channel.id,
    audience: upload.audience,
  });
  let status: {
    status: string;
    batches: { total: number; sent?: number; failed?: number };
    recipients: Record<string, number>;
    log: { level: string; message: string; data: unknown }[];
  };
  const sending = statusLine();
  for (;;) {
    ({ execution: status } = await call<{ execution: typeof status }>(
      "GET",
      `/executions/${execution.id}`,
    ));
    const { total, sent = 0, failed = 0 } = status.batches;
    sending.show(
      `execution ${execution.id}: ${status.status}, batches ${sent + failed}/${total}, recipients sent ${status.recipients.sent ?? 0}`,
    );
    if (["completed", "partially_failed", "failed", "cancelled"].includes(status.status)) break;
    await pollPause();
  }
  sending.end();
  say(
    `execution ${execution.id} ${status.status} in ${((performance.now() - started) / 1000).toFixed(1)} s`,
  );

  say("interaction log:");
  for (const entry of status.log)
    process.stdout.write(`  ${entry.level.padEnd(5)} ${entry.message}\n`);
  const last = status.log.at(-1);
  if (last?.data) process.stdout.write(`  ${JSON.stringify(last.data)}\n`);
  const ledger = await (await fetch(`http://${host}:${simPort}/__sim/ledger`)).json();
  say(`simulator ledger: ${JSON.stringify(ledger)}`);

  // Inbound (seed 000 "State data synchronization"): the simulator plays out every event of
  // the send now, and one sync run on the reports worker pages them into PostgreSQL.
  const settled = await fetch(`http://${host}:${simPort}/__sim/events/settle`, { method: "POST" });
  if (!settled.ok) throw new Error(`the simulator refused to settle events: ${settled.status}`);
  const syncStarted = performance.now();
  const { sync } = await call<{ sync: { jobId: string } }>("POST", `/channels/${channel.id}/sync`);
  let run: {
    state: string;
    progress: { kind?: string; rows?: number } | null;
    error: string | null;
  };
  const syncing = statusLine();
  for (;;) {
    ({ sync: run } = await call<{ sync: typeof run }>("GET", `/sync-jobs/${sync.jobId}`));
    const progress = typeof run.progress === "object" && run.progress ? run.progress : {};
    syncing.show(`sync: ${run.state}, ${progress.kind ?? "-"} report, ${progress.rows ?? 0} rows`);
    if (run.state === "completed" || run.state === "failed") break;
    await pollPause();
  }
  syncing.end();
  if (run.state !== "completed") throw new Error(`sync failed: ${run.error}`);
  const { execution: synced } = await call<{ execution: { metrics: EventMetrics } }>(
    "GET",
    `/executions/${execution.id}`,
  );
  const m = synced.metrics;
  say(
    `events synced back into PostgreSQL in ${((performance.now() - syncStarted) / 1000).toFixed(1)} s: sent ${m.sent}, delivered ${m.delivered}, failed ${m.failed}, opened ${m.opened.unique} (${m.opened.total} opens), clicked ${m.clicked.unique} (${m.clicked.total} clicks), complained ${m.complained}, unsubscribed ${m.unsubscribed}`,
  );
  say(`dashboard: ${dashboard}/ (user ${config.dashboard.user}; password from DASHBOARD_PASSWORD)`);

  if (values.keep) {
    say(
      `--keep: producer API ${api}, simulator http://${host}:${simPort}/__sim; Ctrl-C stops everything`,
    );
    say(`to use the CLI: export LUXRELAY_API=${api} LUXRELAY_API_KEY=${apiKey}`);
  } else {
    await stopAll();
    say("stopped");
    process.exit(status.status === "completed" ? 0 : 1);
  }
} catch (error) {
  process.stderr.write(`\n[demo] failed: ${(error as Error).message}\n`);
  await stopAll();
  process.exit(1);
}
