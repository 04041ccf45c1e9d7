import { createHash, createHmac } from "node:crypto";
import { parseArgs } from "node:util";
import { startSimulatorProcess } from "@luxrelay/testkit";
import { Agent, request } from "undici";
import { writeBenchmarkSection } from "./report.ts";

// Simulator throughput and memory: the simulator runs as its own process (`luxsci-sim`, one
// event loop, so one core) while this process signs and posts POST /email/send calls of 1000
// messages over a few connections, written from the contract (independent of packages/luxsci).
// Then the simulator's own memory, read from /__sim/stats after a forced GC, with the whole
// ledger held. Writes its section of BENCHMARKS.md.
// Run: npm run sim-throughput -w @luxrelay/bench -- [--messages N] [--connections C] [--no-write]

const { values } = parseArgs({
  options: {
    messages: { type: "string", default: "1000000" },
    connections: { type: "string", default: "4" },
    "no-write": { type: "boolean", default: false },
  },
});
const total = Number(values.messages);
const connections = Number(values.connections);
const BATCH = 1000;
const account = { user: "bench", pass: "p", token: "tok-bench", secret: "bench-secret" };

const hmac = (text: string) => createHmac("sha256", account.secret).update(text).digest("hex");

const sim = await startSimulatorProcess(["--seed", "1", "--accounts", JSON.stringify([account])]);
const dispatcher = new Agent({ connections });
const base = new URL(sim.url);

async function call(method: string, path: string, body: string, cookie?: string) {
  const response = await request(`${sim.url}${path}`, {
    method: method as "POST",
    body,
    dispatcher,
    headers: { "content-type": "application/json", ...(cookie ? { cookie } : {}) },
  });
  const json = (await response.body.json()) as { auth?: string; data?: unknown; error?: string };
  if (response.statusCode !== 200) throw new Error(`${path}: ${response.statusCode} ${json.error}`);
  return json;
}

const date = String(Math.floor(Date.now() / 1000));
let auth = (
  await call(
    "POST",
    "/auth",
    JSON.stringify({
      user: null,
      pass: null,
      token: account.token,
      secret: null,
      debug: null,
      date,
      signature: hmac(`${account.token}\n${date}\n`),
    }),
  )
).auth as string;

async function signed(method: string, path: string, body: string) {
  const digest = createHash("sha256").update(body).digest("hex");
  const cookie = `signature=${auth}:${hmac(`${auth}\n${method}\n${base.pathname}${path}\n\n${digest}\n`)}`;
  const json = await call(method, path, body, cookie);
  if (json.auth) auth = json.auth;
  return json;
}

function batchBody(b: number, template: string): string {
  const messages = [];
  for (let i = 0; i < BATCH; i++) {
    const n = b * BATCH + i;
    messages.push({
      from_address: "dev@luxsci.net",
      from_name: "Developer",
      subject: null,
      to: [`recipient${n}@example.com`],
      headers: [
        ["chid", `2790_2790_21f174d0fe8442a9acf096bbd437276c_${n}`],
        ["offername", "June Sales"],
        ["rpid", "M"],
      ],
      template,
      template_data: { FirstName: `First${n}`, slot_1: `<p>offer ${n % 17}</p>` },
      template_data_raw: 1,
      unsubscribe: 1,
    });
  }
  return JSON.stringify({ message: null, messages, sandbox: 0 });
}

// Seed 000 step 3: one template per content variant.
const created = await signed(
  "PUT",
  "/user/bench/templates",
  JSON.stringify({
    template_id: 0,
    title: "LR_bench",
    subject: "Hello {{FirstName}}",
    body_html: `<html><body><h1>Hi {{FirstName}}</h1>{{slot_1}}${"<p>static content</p>".repeat(40)}</body></html>`,
    body_text: `Hi {{FirstName}}\n${"static content\n".repeat(40)}`,
    format: "both",
  }),
);
const template = String((created.data as { template_id: string }).template_id);

const batches = Math.ceil(total / BATCH);
let next = 0;
let sent = 0;
const started = performance.now();
const progress = setInterval(() => {
  const seconds = (performance.now() - started) / 1000;
  process.stderr.write(
    `\r${sent.toLocaleString("en-US")} / ${total.toLocaleString("en-US")} messages, ${Math.round(sent / seconds).toLocaleString("en-US")}/s   `,
  );
}, 1000);
async function worker() {
  for (;;) {
    const b = next++;
    if (b >= batches) return;
    const json = await signed("POST", "/user/bench/email/send", batchBody(b, template));
    if (!Array.isArray(json.data) || json.data.length !== BATCH) throw new Error("short reply");
    sent += BATCH;
  }
}
await Promise.all(Array.from({ length: connections }, worker));
const seconds = (performance.now() - started) / 1000;
clearInterval(progress);
process.stderr.write("\n");

const stats = (await (
  await request(`${sim.origin}/__sim/stats?gc=1`, { dispatcher })
).body.json()) as {
  ledger: { total: number; duplicates: number };
  memory: NodeJS.MemoryUsage;
};
await dispatcher.close();
sim.stop();

const mb = (bytes: number) => `${Math.round(bytes / 1024 / 1024)} MB`;
const { ledger, memory } = stats;
const figures = [
  `${ledger.total.toLocaleString("en-US")} messages in ${batches.toLocaleString("en-US")} signed calls of ${BATCH} over ${connections} connections: ${seconds.toFixed(1)} s, **${Math.round(ledger.total / seconds).toLocaleString("en-US")} messages/s** (target ≥ 5,000/s on one core: the simulator is one process, one event loop; the client runs in another process)`,
  `simulator process after, with all ${ledger.total.toLocaleString("en-US")} messages in the ledger (after a GC): **RSS ${mb(memory.rss)}**, heap used ${mb(memory.heapUsed)}, array buffers ${mb(memory.arrayBuffers)} (target: well under 1 GB)`,
  `duplicates in the ledger: ${ledger.duplicates}`,
];
process.stdout.write(`${figures.join("\n")}\n`);
if (!values["no-write"]) {
  writeBenchmarkSection(
    "LuxSci simulator send throughput (apps/luxsci-sim)",
    `npm run sim-throughput -w @luxrelay/bench -- --messages ${total}`,
    figures,
  );
}
