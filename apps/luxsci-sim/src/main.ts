import { randomInt } from "node:crypto";
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { getConfigOrExit } from "@luxrelay/config";
import { createLogger } from "@luxrelay/logger";
import { parseFaultRule } from "./faults.ts";
import { type SimAccount, startSimulator } from "./index.ts";

// `luxsci-sim`: the simulator as a process (demo, docker-compose). Thin: parse flags, start,
// close on SIGTERM/SIGINT.

const HELP = `luxsci-sim: LuxSci API v2 simulator (apps/luxsci-sim/README.md)

  --port N              listen port (default 8025; 0 = any free port)
  --host H              listen address (default 127.0.0.1)
  --seed N              seed of events, fault draws and sendmail ids (default: a new one each
                        start, logged). The same seed gives the same sendmail ids, so one run
                        repeated against a database that kept the last run's events would look
                        like old events to luxrelay: repeat a seed only against a fresh one
  --accounts FILE|JSON  accounts: JSON array of {user, pass, token, secret, account?, uid?}
  --auth-validity S     seconds an auth value stays valid (default 600)
  --max-jobs N          export jobs running at once (default 2)
  --export-step-ms MS   time of each export step (default 500/500/1000)
  --event-delay-scale X multiply event delays (default 1)
  --report-lag-ms MS    a row shows in reports and exports MS after its own date (default 0;
                        also POST /__sim/report-lag)
  --fault JSON          a fault rule, repeatable: {"route":"*","rate503":0.1}
  --rpm N               requests-per-minute cap on every API route
  --latency-ms MS       latency on every API route
  --help                this text
`;

const { values } = parseArgs({
  options: {
    port: { type: "string", default: "8025" },
    host: { type: "string", default: "127.0.0.1" },
    seed: { type: "string" },
    accounts: { type: "string" },
    "auth-validity": { type: "string" },
    "max-jobs": { type: "string" },
    "export-step-ms": { type: "string" },
    "event-delay-scale": { type: "string" },
    "report-lag-ms": { type: "string" },
    fault: { type: "string", multiple: true },
    rpm: { type: "string" },
    "latency-ms": { type: "string" },
    help: { type: "boolean", default: false },
  },
});

if (values.help) {
  process.stdout.write(HELP);
  process.exit(0);
}

const config = getConfigOrExit();
const log = createLogger({ name: "luxsci-sim", level: config.logLevel });

function number(flag: string, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0) {
    log.fatal({ flag, value: raw }, "expected a non-negative number");
    process.exit(2);
  }
  return value;
}

function accounts(raw: string | undefined): SimAccount[] | undefined {
  if (raw === undefined) return undefined;
  const text = raw.trim().startsWith("[") ? raw : readFileSync(raw, "utf8");
  return JSON.parse(text) as SimAccount[];
}

const faults = (values.fault ?? []).map((text) => parseFaultRule(JSON.parse(text)));
const rpm = number("--rpm", values.rpm);
const latencyMs = number("--latency-ms", values["latency-ms"]);
if (rpm !== undefined || latencyMs !== undefined) {
  faults.push(parseFaultRule({ route: "*", rpm, latencyMs }));
}
const step = number("--export-step-ms", values["export-step-ms"]);
// LuxSci never repeats a sendmail id; a simulator restarted with its last seed would. So each
// start takes a new seed unless told one (logged below, to repeat a run).
const seed = number("--seed", values.seed) ?? randomInt(1, 2 ** 31);

const sim = await startSimulator({
  port: number("--port", values.port),
  host: values.host,
  seed,
  accounts: accounts(values.accounts),
  authValiditySeconds: number("--auth-validity", values["auth-validity"]),
  maxJobs: number("--max-jobs", values["max-jobs"]),
  exportStepMs:
    step === undefined ? undefined : { submittedMs: step, preparingMs: step, runningMs: step },
  eventDelayScale: number("--event-delay-scale", values["event-delay-scale"]),
  reportLagMs: number("--report-lag-ms", values["report-lag-ms"]),
  faults,
  logger: log,
});
log.info({ url: sim.url, admin: `${sim.origin}/__sim`, seed }, "luxsci-sim listening");

for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.once(signal, () => {
    log.info({ signal }, "luxsci-sim stopping");
    void sim.close().then(() => process.exit(0));
  });
}
