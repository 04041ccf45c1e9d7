import { spawn } from "node:child_process";
import { once } from "node:events";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import { createExecution } from "@luxrelay/outbound";
import { writeBenchmarkSection } from "./report.ts";
import { createBenchOffer, startBenchStack, writeCsv } from "./stack.ts";

// Planning one execution of N recipients (seed 000 steps 2-6: CSV -> validate -> suppress ->
// render -> group -> persist with COPY -> templates -> enqueue). Set-up happens here; planning
// runs in a process wired like a worker (plan-child.ts), with the simulator in a third.
// Figures: wall time and the planning process's peak RSS (its kernel high-water mark).
// npm run plan -w @luxrelay/bench -- --recipients 1000000 [--runs 3]

const { values } = parseArgs({
  options: {
    recipients: { type: "string", default: "1000000" },
    runs: { type: "string", default: "3" },
    "no-write": { type: "boolean", default: false },
  },
});
const total = Number(values.recipients);
const TIERS = ["gold", "silver", "bronze"];
const path = await writeCsv(
  "contact_id,email,first_name,tier,city,points",
  total,
  (n) =>
    `C${n},user${n}@example.com,Name${n},${TIERS[n % 3]},${n % 2 ? "Boston" : "Zürich"},${n % 5000}`,
);
const stack = await startBenchStack({ logLevel: "info" });
const { runtime } = stack;
const { prisma } = runtime.deps;
const htmlOf: Record<string, string> = {
  gold: "<h1>Hello {{ first_name }}</h1><p>Gold in {{ city }}: {{ points }} points.</p>{% if points > 2500 %}<p>Upgrade!</p>{% endif %}",
  silver: "<h1>Hi {{ first_name }}</h1><p>Silver savings in {{ city }}.</p>",
  bronze: "<p>Dear {{ first_name }}, 10% off.</p>",
};
const { channel, offer } = await createBenchOffer(stack, {
  variantAttribute: "tier",
  variants: TIERS.map((key) => ({
    key,
    subject: `{{ first_name }}, your ${key} offer`,
    html: `${htmlOf[key]}${"<p>Static footer text, the same for everyone.</p>".repeat(20)}`,
    text: `Hello {{ first_name }}, ${key}.`,
  })),
});
// 1% of the audience is already suppressed.
await runtime.deps.pool.query(
  `INSERT INTO suppression (email, source) SELECT 'user' || n || '@example.com', 'hard_fail'
   FROM generate_series(1, $1::int, 100) n`,
  [total],
);
interface PlanFigures {
  batches: number;
  seconds: number;
  cpuSeconds: number;
  rssBefore: number;
  peakRss: number;
  peakHeap: number;
  peakExternal: number;
}

/** One planning run of a new execution of the audience, in a process of its own. */
async function planOnce(): Promise<PlanFigures & { executionId: number }> {
  // Each run starts from empty recipient and batch tables, as the first execution would.
  await runtime.deps.pool.query("TRUNCATE recipient, batch");
  await runtime.deps.queues.send.obliterate({ force: true });
  await runtime.deps.queues.finalize.obliterate({ force: true });
  const execution = await createExecution(runtime.deps, {
    offerId: offer.id,
    channelId: channel.id,
    audience: { type: "file", path, format: "csv" },
  });
  // Planning runs wired as a worker is: this process's memory is the figure.
  const child = spawn(
    process.execPath,
    [
      "--expose-gc",
      // Extra node flags for a look inside, e.g. PLAN_NODE_FLAGS="--trace-gc" or "--cpu-prof".
      ...(process.env.PLAN_NODE_FLAGS?.split(" ").filter(Boolean) ?? []),
      "--import",
      "tsx",
      join(import.meta.dirname, "plan-child.ts"),
      String(execution.id),
    ],
    {
      env: { ...process.env, ...stack.env, LOG_LEVEL: "info" },
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  const lines: string[] = [];
  createInterface({ input: child.stdout as NodeJS.ReadableStream }).on("line", (line) => {
    lines.push(line);
    if (line.startsWith("[") || line.includes('"audience planned"')) {
      process.stderr.write(`${line}\n`);
    }
  });
  const [code] = (await once(child, "exit")) as [number | null];
  if (code !== 0) throw new Error(`the planning process exited with ${code}`);
  return { ...(JSON.parse(lines.at(-1) as string) as PlanFigures), executionId: execution.id };
}

// The machine is a shared VM (CPU steal varies from minute to minute): the figure is the median
// of several runs, with every run shown.
const runs: Awaited<ReturnType<typeof planOnce>>[] = [];
for (let i = 0; i < Number(values.runs); i++) runs.push(await planOnce());
const median = [...runs].sort((a, b) => a.seconds - b.seconds)[Math.floor(runs.length / 2)];
const { batches, seconds, cpuSeconds, rssBefore, peakHeap, peakExternal, executionId } =
  median as (typeof runs)[number];
const peakRss = Math.max(...runs.map((run) => run.peakRss));
const after = await prisma.execution.findUniqueOrThrow({ where: { id: executionId } });
const jobs = await runtime.deps.queues.send.getJobCounts(
  "waiting",
  "waiting-children",
  "prioritized",
);

await stack.close();

const mb = (bytes: number) => `${Math.round(bytes / 1024 / 1024)} MB`;
const figures = [
  `${total.toLocaleString("en-US")} CSV rows planned in **${seconds.toFixed(1)} s**, the median of ${runs.length} runs (${runs.map((run) => `${run.seconds.toFixed(1)} s`).join(", ")}; ${Math.round(total / seconds).toLocaleString("en-US")} rows/s, ${cpuSeconds.toFixed(1)} s of CPU in the planning process; target ≤ 20 s; Redpoint's connector: 34m35s)`,
  `peak RSS of the planning process (VmHWM), highest of the runs: **${mb(peakRss)}** (target ≤ 300 MB; ${mb(rssBefore)} before planning started; peak JS heap used ${mb(peakHeap)}, external ${mb(peakExternal)})`,
  `${batches.toLocaleString("en-US")} batches, ${after.recipientsSuppressed.toLocaleString("en-US")} suppressed, ${after.recipientsInvalid} invalid; send jobs enqueued (last run): ${Object.values(
    jobs,
  )
    .reduce((a, b) => a + b, 0)
    .toLocaleString("en-US")}`,
];
process.stdout.write(`${figures.join("\n")}\n`);
if (!values["no-write"]) {
  writeBenchmarkSection(
    "Planning (packages/outbound planExecution)",
    `npm run plan -w @luxrelay/bench -- --recipients ${total} --runs ${runs.length}`,
    figures,
  );
}
