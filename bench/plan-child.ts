import { readFileSync } from "node:fs";
import { loadConfig } from "@luxrelay/config";
import { createLogger } from "@luxrelay/logger";
import { createOutboundRuntime, planExecution } from "@luxrelay/outbound";

// The planning process of bench/plan.ts: wired as a worker wires itself (createOutboundRuntime
// from the environment), it plans one execution and prints its figures as one JSON line. Its
// peak RSS is the kernel's high-water mark (VmHWM), so no short peak goes unseen.

function kib(field: "VmRSS" | "VmHWM"): number {
  const match = new RegExp(`${field}:\\s+(\\d+) kB`).exec(
    readFileSync("/proc/self/status", "utf8"),
  );
  return Number(match?.[1] ?? 0) * 1024;
}

const executionId = Number(process.argv[2]);
const config = loadConfig(process.env);
const runtime = createOutboundRuntime(config, createLogger({ name: "bench-plan", level: "info" }));
await runtime.deps.pool.query("SELECT 1");
(globalThis as { gc?: () => void }).gc?.();
const rssBefore = kib("VmRSS");
let peakHeap = 0;
let peakExternal = 0;
const sampler = setInterval(() => {
  const memory = process.memoryUsage();
  peakHeap = Math.max(peakHeap, memory.heapUsed);
  peakExternal = Math.max(peakExternal, memory.external);
}, 50);
const started = performance.now();
const cpuBefore = process.cpuUsage();
const result = await planExecution(runtime.deps, executionId);
const seconds = (performance.now() - started) / 1000;
const { user, system } = process.cpuUsage(cpuBefore);
const cpuSeconds = (user + system) / 1e6;
clearInterval(sampler);
const figures = {
  ...result,
  seconds,
  cpuSeconds,
  rssBefore,
  peakRss: kib("VmHWM"),
  peakHeap,
  peakExternal,
};
await runtime.close();
process.stdout.write(`${JSON.stringify(figures)}\n`);
