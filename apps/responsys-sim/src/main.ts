import { randomInt } from "node:crypto";
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { getConfigOrExit } from "@luxrelay/config";
import { createLogger } from "@luxrelay/logger";
import { parseFaultRule } from "./faults.ts";
import { startResponsysSimulator } from "./index.ts";
import { parseRateLimits, type SimAccount } from "./options.ts";

// `responsys-sim`: the simulator as a process (demo, docker-compose). Thin: parse flags, start,
// close on SIGTERM/SIGINT.

const HELP = `responsys-sim: Oracle Responsys REST v1.3 simulator (apps/responsys-sim/README.md)

  --port N                login host port (default 8026; 0 = any free port)
  --api-port N            API host port, the endPoint login answers (default 8027; 0 = any)
  --host H                listen address (default 127.0.0.1)
  --seed N                seed of RIIDs, merge failures and fault draws (default: a new one
                          each start, logged)
  --accounts FILE|JSON    accounts: JSON array of {user, password} (default demo/demo-pass)
  --token-ttl S           token lifetime in seconds (default 7200)
  --rate-limit FN=N       calls per minute of an API function, repeatable
                          (login, refreshToken, mergeListMembers, triggerEmail)
  --rate-limit-status S   401 (default) or 429 for API_LIMIT_EXCEEDED
  --merge-failure-rate X  share of merge records answered MERGEFAILED (default 0)
  --fault JSON            a fault rule, repeatable: {"route":"*","rate500":0.1}
  --help                  this text
`;

const { values } = parseArgs({
  options: {
    port: { type: "string", default: "8026" },
    "api-port": { type: "string", default: "8027" },
    host: { type: "string", default: "127.0.0.1" },
    seed: { type: "string" },
    accounts: { type: "string" },
    "token-ttl": { type: "string" },
    "rate-limit": { type: "string", multiple: true },
    "rate-limit-status": { type: "string" },
    "merge-failure-rate": { type: "string" },
    fault: { type: "string", multiple: true },
    help: { type: "boolean", default: false },
  },
});

if (values.help) {
  process.stdout.write(HELP);
  process.exit(0);
}

const config = getConfigOrExit();
const log = createLogger({ name: "responsys-sim", level: config.logLevel });

function exitWith(flag: string, value: string, expected: string): never {
  log.fatal({ flag, value }, expected);
  process.exit(2);
}

function number(flag: string, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0) exitWith(flag, raw, "expected a non-negative number");
  return value;
}

function accounts(raw: string | undefined): SimAccount[] | undefined {
  if (raw === undefined) return undefined;
  const text = raw.trim().startsWith("[") ? raw : readFileSync(raw, "utf8");
  return JSON.parse(text) as SimAccount[];
}

const limitPairs = (values["rate-limit"] ?? []).map((pair) => {
  const [name, limit] = pair.split("=");
  if (!name || limit === undefined) exitWith("--rate-limit", pair, "expected FUNCTION=N");
  return [name, limit] as const;
});
const status = values["rate-limit-status"];
if (status !== undefined && status !== "401" && status !== "429") {
  exitWith("--rate-limit-status", status, "expected 401 or 429");
}
// A new seed each start unless told (logged below, to repeat a run), as luxsci-sim does.
const seed = number("--seed", values.seed) ?? randomInt(1, 2 ** 31);

const sim = await startResponsysSimulator({
  port: number("--port", values.port),
  apiPort: number("--api-port", values["api-port"]),
  host: values.host,
  seed,
  accounts: accounts(values.accounts),
  tokenTtlSeconds: number("--token-ttl", values["token-ttl"]),
  rateLimits: parseRateLimits(Object.fromEntries(limitPairs)),
  rateLimitStatus: status === undefined ? undefined : status === "429" ? 429 : 401,
  mergeFailureRate: number("--merge-failure-rate", values["merge-failure-rate"]),
  faults: (values.fault ?? []).map((text) => parseFaultRule(JSON.parse(text))),
  logger: log,
});
log.info(
  { loginUrl: sim.loginUrl, endPoint: sim.endPoint, admin: sim.adminUrl, seed },
  "responsys-sim listening",
);

for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.once(signal, () => {
    log.info({ signal }, "responsys-sim stopping");
    void sim.close().then(() => process.exit(0));
  });
}
