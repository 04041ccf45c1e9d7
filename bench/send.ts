import type { ChildProcess } from "node:child_process";
import { parseArgs } from "node:util";
import { LuxSciClient, type LuxSciMessage } from "@luxrelay/luxsci";
import { createExecution } from "@luxrelay/outbound";
import { writeBenchmarkSection } from "./report.ts";
import {
  BENCH_ACCOUNT,
  createBenchOffer,
  spawnBenchWorker,
  startBenchStack,
  writeCsv,
} from "./stack.ts";

// End to end: N recipients from a CSV to "accepted by the simulator", through the plan job,
// the send flow and W worker processes (each its own process, as deployed), with the
// simulator in its own process and an optional latency on every LuxSci call. Then, as the
// ceiling, the same messages read from PostgreSQL and POSTed by one process with the same
// number of calls in flight, with no queue and no state updates.
// npm run send -w @luxrelay/bench -- --recipients 1000000 [--latency-ms 2000] [--workers 2]

const { values } = parseArgs({
  options: {
    recipients: { type: "string", default: "1000000" },
    "latency-ms": { type: "string", default: "0" },
    workers: { type: "string", default: "2" },
    concurrency: { type: "string", default: "8" },
    "no-write": { type: "boolean", default: false },
  },
});
const total = Number(values.recipients);
const latencyMs = Number(values["latency-ms"]);
const workerCount = Number(values.workers);
const concurrency = Number(values.concurrency);
const TIERS = ["gold", "silver", "bronze"];
const path = await writeCsv(
  "contact_id,email,first_name,tier,city",
  total,
  (n) => `C${n},user${n}@example.com,Name${n},${TIERS[n % 3]},${n % 2 ? "Boston" : "Zürich"}`,
);
const stack = await startBenchStack({
  simArgs: latencyMs > 0 ? ["--latency-ms", String(latencyMs)] : [],
  env: {
    WORKER_QUEUES: "send",
    WORKER_CONCURRENCY_SEND: String(concurrency),
    LUXSCI_TIMEOUT_MS: String(Math.max(30_000, latencyMs * 5)),
  },
});
const { runtime, sim, env } = stack;
const { prisma } = runtime.deps;
const { channel, offer } = await createBenchOffer(stack, {
  variantAttribute: "tier",
  channel: { fromName: "Bench", customHeaders: [["offername", "Bench"]] },
  variants: TIERS.map((key) => ({
    key,
    subject: `{{ first_name }}, your ${key} offer`,
    html: `<h1>Hello {{ first_name }}</h1><p>${key} savings in {{ city }}.</p>${"<p>Static footer.</p>".repeat(20)}`,
    text: `Hello {{ first_name }}, ${key}.`,
  })),
});
const workers: ChildProcess[] = Array.from({ length: workerCount }, () => spawnBenchWorker(stack));

// The clock starts once every worker process is connected (start-up is not sending).
for (let i = 0; i < 600; i++) {
  if ((await runtime.deps.queues.send.getWorkers()).length >= workerCount) break;
  await new Promise((resolve) => setTimeout(resolve, 100));
}
const started = performance.now();
const execution = await createExecution(runtime.deps, {
  offerId: offer.id,
  channelId: channel.id,
  audience: { type: "file", path, format: "csv" },
});
let plannedAt = 0;
let status = "scheduled";
for (;;) {
  const row = await prisma.execution.findUniqueOrThrow({ where: { id: execution.id } });
  status = row.status;
  // A small run can go from planning to completed between two polls: planning ended by then.
  if (!plannedAt && (row.status === "sending" || row.completedAt)) plannedAt = performance.now();
  if (row.completedAt) break;
  if (process.stderr.isTTY) {
    process.stderr.write(`\r${row.status}: ${row.batchesSent}/${row.batchesTotal} batches   `);
  }
  await new Promise((resolve) => setTimeout(resolve, 250));
}
const endToEnd = (performance.now() - started) / 1000;
process.stderr.write("\n");
const ledger = (await (await fetch(`${sim.origin}/__sim/ledger`)).json()) as {
  total: number;
  duplicates: number;
};
for (const worker of workers) worker.kill("SIGTERM");

// The ceiling: the same messages, straight from PostgreSQL to the simulator.
await fetch(`${sim.origin}/__sim/reset`, { method: "POST" });
if (latencyMs > 0) {
  // reset clears faults: the ceiling runs under the same latency.
  await fetch(`${sim.origin}/__sim/faults`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ route: "*", latencyMs }),
  });
}
const client = new LuxSciClient({
  baseUrl: sim.url,
  user: BENCH_ACCOUNT.user,
  token: BENCH_ACCOUNT.token,
  secret: BENCH_ACCOUNT.secret,
  timeoutMs: Number(env.LUXSCI_TIMEOUT_MS),
  // As many sockets as calls in flight (each worker process has a pool of its own).
  connections: workerCount * concurrency,
});
const templateIds = new Map<string, string>();
for (const template of await prisma.luxsciTemplate.findMany({
  where: { executionId: execution.id },
})) {
  const variant = await prisma.contentVariant.findUniqueOrThrow({
    where: { id: template.variantId as number },
  });
  templateIds.set(
    template.contentHash,
    await client.createTemplate({
      title: template.title,
      subject: variant.subject,
      body_html: variant.html,
      body_text: variant.text,
      format: "both",
    }),
  );
}
const batches = await prisma.batch.findMany({
  where: { executionId: execution.id },
  select: { seq: true, contentHash: true },
  orderBy: { seq: "asc" },
});
let next = 0;
const rawStarted = performance.now();
async function rawSender() {
  for (;;) {
    const batch = batches[next++];
    if (!batch) return;
    const { rows } = await runtime.deps.pool.query<{
      email: string;
      chid: string;
      slot_data: Record<string, string>;
    }>(
      "SELECT email, chid, slot_data FROM recipient WHERE execution_id = $1 AND batch_seq = $2 ORDER BY id",
      [execution.id, batch.seq],
    );
    const messages: LuxSciMessage[] = rows.map((row) => ({
      from_address: "bench@example.com",
      from_name: "Bench",
      to: [row.email],
      subject: null,
      headers: [
        ["chid", row.chid],
        ["offername", "Bench"],
      ],
      template: templateIds.get(batch.contentHash) as string,
      template_data: row.slot_data,
      template_data_raw: 1,
    }));
    await client.sendEmail(messages, { maxAttempts: 1 });
  }
}
await Promise.all(Array.from({ length: workerCount * concurrency }, rawSender));
const raw = (performance.now() - rawStarted) / 1000;
const rawLedger = (await (await fetch(`${sim.origin}/__sim/ledger`)).json()) as { total: number };

await client.close();
await stack.close();

const rate = (n: number, s: number) => Math.round(n / s).toLocaleString("en-US");
const label = latencyMs > 0 ? `${latencyMs} ms latency per LuxSci call` : "no simulated latency";
const target = latencyMs > 0 ? "≤ 120 s" : "≤ 60 s";
const figures = [
  `${label}; ${workerCount} worker processes × ${concurrency} send jobs; ${total.toLocaleString("en-US")} recipients, 3 variants`,
  `end to end (CSV → plan → ${batches.length.toLocaleString("en-US")} batches → accepted by the simulator): **${endToEnd.toFixed(1)} s** (${rate(ledger.total, endToEnd)} recipients/s; target ${target}; status ${status}); planning took ${((plannedAt - started) / 1000).toFixed(1)} s of it`,
  `ledger: ${ledger.total.toLocaleString("en-US")} accepted, ${ledger.duplicates} duplicates`,
  `ceiling, same messages from PostgreSQL straight to the simulator (LuxSciClient on undici, ${workerCount * concurrency} calls in flight, no queue, no state updates): ${raw.toFixed(1)} s (${rate(rawLedger.total, raw)} messages/s)`,
];
process.stdout.write(`${figures.join("\n")}\n`);
if (!values["no-write"]) {
  writeBenchmarkSection(
    `End-to-end send (${label})`,
    `npm run send -w @luxrelay/bench -- --recipients ${total}${latencyMs ? ` --latency-ms ${latencyMs}` : ""} --workers ${workerCount} --concurrency ${concurrency}`,
    figures,
  );
}
