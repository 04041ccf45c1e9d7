import { parseArgs } from "node:util";
import { JOB_NAMES, QUEUE_NAMES, realtimeJobId, type TRealtimePayload } from "@luxrelay/jobs";
import { Queue } from "bullmq";
import { writeBenchmarkSection } from "./report.ts";
import { createBenchOffer, spawnBenchWorker, startBenchStack } from "./stack.ts";

// Realtime latency: contacts added to the realtime queue at a steady rate (what POST
// /realtime/{offer} does once it has validated the request), one realtime worker process,
// the simulator in its own process. Latency = the job's finish (LuxSci accepted the message
// and its row is marked sent) minus its enqueue time. First the target run (500/s for 60 s),
// then rising rates to find the highest one held with p99 ≤ 1 s.
// npm run realtime -w @luxrelay/bench -- [--rate 500] [--seconds 60] [--steps 1000,2000,4000]

const { values } = parseArgs({
  options: {
    rate: { type: "string", default: "500" },
    seconds: { type: "string", default: "60" },
    steps: { type: "string", default: "1000,2000,3000,4000" },
    "step-seconds": { type: "string", default: "15" },
    "no-write": { type: "boolean", default: false },
  },
});
const stack = await startBenchStack({ env: { WORKER_QUEUES: "realtime" } });
const { runtime, sim, config } = stack;
const { prisma } = runtime.deps;
const { channel, offer } = await createBenchOffer(stack, {
  variants: [
    {
      key: "a",
      subject: "Your code, {{ first_name }}",
      html: `<p>Hello {{ first_name }}, your code is <b>{{ code }}</b>.</p>${"<p>Static.</p>".repeat(10)}`,
      text: "Hello {{ first_name }}, your code is {{ code }}.",
    },
  ],
});
const worker = spawnBenchWorker(stack);
const queue = new Queue(QUEUE_NAMES.realtime, {
  connection: stack.queues.connection,
  prefix: stack.queues.prefix,
});
for (let i = 0; i < 600 && (await queue.getWorkers()).length === 0; i++) {
  await new Promise((resolve) => setTimeout(resolve, 100));
}

let n = 0;
/** Adds `rate` contacts a second for `seconds`, in 20 ms slices; returns their job ids. */
async function drive(rate: number, seconds: number): Promise<string[]> {
  const ids: string[] = [];
  const sliceMs = 20;
  const started = performance.now();
  let due = 0;
  while (performance.now() - started < seconds * 1000) {
    const target = Math.floor(((performance.now() - started) / 1000) * rate);
    const jobs = [];
    for (; due < target; due++) {
      n++;
      const data: TRealtimePayload = {
        offerId: offer.id,
        channelId: channel.id,
        idempotencyKey: `k${n}`,
        contact: {
          email: `user${n}@example.com`,
          contactId: `c${n}`,
          attributes: { first_name: `N${n}`, code: String(n) },
        },
      };
      const jobId = realtimeJobId(offer.id, data.idempotencyKey);
      ids.push(jobId);
      jobs.push({
        name: JOB_NAMES.realtime,
        data,
        opts: { jobId, attempts: 5, removeOnComplete: false },
      });
    }
    if (jobs.length > 0) await queue.addBulk(jobs);
    await new Promise((resolve) => setTimeout(resolve, sliceMs));
  }
  return ids;
}

async function latencies(
  ids: string[],
): Promise<{ p50: number; p99: number; max: number; done: number }> {
  const deadline = Date.now() + 120_000;
  let values: number[] = [];
  while (Date.now() < deadline) {
    const jobs = await Promise.all(ids.map((id) => queue.getJob(id)));
    values = jobs
      .filter((job) => job?.finishedOn)
      .map((job) => (job?.finishedOn ?? 0) - (job?.timestamp ?? 0));
    if (values.length === ids.length) break;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  values.sort((a, b) => a - b);
  const at = (q: number) =>
    values[Math.min(values.length - 1, Math.floor(q * values.length))] ?? Number.NaN;
  return { p50: at(0.5), p99: at(0.99), max: values.at(-1) ?? Number.NaN, done: values.length };
}

// Warm-up (not measured): the QL template is created once and kept, code paths get compiled.
await latencies(await drive(100, 2));

const rate = Number(values.rate);
const seconds = Number(values.seconds);
const main = await latencies(await drive(rate, seconds));
const ledger = (await (await fetch(`${sim.origin}/__sim/ledger`)).json()) as {
  total: number;
  duplicates: number;
};
const steps: { rate: number; p50: number; p99: number; done: number; sent: number }[] = [];
for (const stepRate of values.steps.split(",").map(Number)) {
  const ids = await drive(stepRate, Number(values["step-seconds"]));
  const result = await latencies(ids);
  steps.push({ rate: stepRate, ...result, sent: ids.length });
  if (result.p99 > 1000) break;
}
const calls = await prisma.interactionLog.findMany({
  where: { offerId: offer.id, hour: { not: null } },
});

worker.kill("SIGTERM");
await queue.close();
await stack.close();

const held = steps.filter((step) => step.p99 <= 1000 && step.done === step.sent).at(-1);
const activity = calls.map((row) => row.data as { sent?: number; calls?: number });
const totalSent = activity.reduce((a, b) => a + (b.sent ?? 0), 0);
const totalCalls = activity.reduce((a, b) => a + (b.calls ?? 0), 0);
const figures = [
  `${rate}/s for ${seconds} s (${main.done.toLocaleString("en-US")} contacts): **p50 ${main.p50} ms, p99 ${main.p99} ms** (max ${main.max} ms; targets p50 ≤ 150 ms, p99 ≤ 500 ms); flush delay ${config.realtime.flushMs} ms; ledger ${ledger.total.toLocaleString("en-US")} accepted, ${ledger.duplicates} duplicates`,
  `rising rates (${values["step-seconds"]} s each): ${steps.map((s) => `${s.rate}/s → p50 ${s.p50} ms, p99 ${s.p99} ms`).join("; ")}`,
  `highest rate held with p99 ≤ 1 s: **${held ? `${held.rate}/s` : "none of the steps"}**; ${totalSent.toLocaleString("en-US")} messages in ${totalCalls.toLocaleString("en-US")} LuxSci calls over the whole run (${Math.round(totalSent / Math.max(1, totalCalls))} per call)`,
];
process.stdout.write(`${figures.join("\n")}\n`);
if (!values["no-write"]) {
  writeBenchmarkSection(
    "Realtime latency (accept → accepted by the simulator)",
    `npm run realtime -w @luxrelay/bench -- --rate ${rate} --seconds ${seconds} --steps ${values.steps}`,
    figures,
  );
}
