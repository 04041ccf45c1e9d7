import { hash32, mulberry32 } from "@luxrelay/sim-kit";

// Fault injection per route, as luxsci-sim's (docs/architecture.md "The simulator"): what a
// client's retry policy must survive. Rates are drawn from a PRNG seeded by (seed, route), so a
// given request order meets the same faults every run. `resetAfter` is the case Responsys makes
// hard: the trigger was sent, the reply is lost, and there is no idempotency key to ask again.

export interface FaultSettings {
  latencyMs?: number;
  /** An injected 500 before the call is handled (Responsys' error body; nothing happened). */
  rate500?: number;
  /** Gateway statuses before the call is handled (plain-text body, as a proxy answers). */
  rate502?: number;
  rate503?: number;
  rate504?: number;
  /** Destroy the socket before the request is handled (nothing happens server-side). */
  resetRate?: number;
  /** Handle the request, then destroy the socket: the call took effect, the reply is lost. */
  resetAfterRate?: number;
  /** Never answer (the client's timeout fires). */
  hangRate?: number;
}

export interface FaultRule extends FaultSettings {
  /**
   * Which requests: `METHOD /path` or `/path` relative to /rest/api/v1.3, `*` matching any
   * characters, e.g. "POST /campaigns/" + "*" + "/email", "/auth/token" or "*".
   */
  route: string;
}

export type FaultAction =
  | { kind: "none" }
  | { kind: "status"; status: 500 | 502 | 503 | 504 }
  | { kind: "reset" }
  | { kind: "resetAfter" }
  | { kind: "hang" };

interface ActiveRule {
  rule: FaultRule;
  pattern: RegExp;
  random: () => number;
}

function compile(route: string): RegExp {
  const trimmed = route.trim();
  const body = trimmed
    .split("*")
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, "\\$&"))
    .join(".*");
  // Without a method, the pattern matches any method.
  return /^[A-Z]+ /.test(trimmed) || trimmed.startsWith("*")
    ? new RegExp(`^${body}$`)
    : new RegExp(`^[A-Z]+ ${body}$`);
}

const DRAWS = [
  ["rate500", { kind: "status", status: 500 }],
  ["rate502", { kind: "status", status: 502 }],
  ["rate503", { kind: "status", status: 503 }],
  ["rate504", { kind: "status", status: 504 }],
  ["resetRate", { kind: "reset" }],
  ["hangRate", { kind: "hang" }],
  ["resetAfterRate", { kind: "resetAfter" }],
] as const satisfies readonly (readonly [keyof FaultSettings, FaultAction])[];

export class Faults {
  private rules: ActiveRule[] = [];

  constructor(private readonly seed: number) {}

  /** Adds or replaces (same route) a rule; its draws start again from the seed. */
  set(rule: FaultRule): void {
    this.rules = this.rules.filter((active) => active.rule.route !== rule.route);
    this.rules.push({
      rule,
      pattern: compile(rule.route),
      random: mulberry32(hash32(rule.route, this.seed)),
    });
  }

  clear(): void {
    this.rules = [];
  }

  list(): FaultRule[] {
    return this.rules.map((active) => active.rule);
  }

  /** The first matching rule decides; one PRNG draw picks at most one fault. */
  decide(method: string, relativePath: string): { action: FaultAction; latencyMs: number } {
    const key = `${method} ${relativePath}`;
    const active = this.rules.find((candidate) => candidate.pattern.test(key));
    if (!active) return { action: { kind: "none" }, latencyMs: 0 };
    const { rule } = active;
    const draw = active.random();
    let edge = 0;
    for (const [field, action] of DRAWS) {
      edge += rule[field] ?? 0;
      if (draw < edge) return { action, latencyMs: rule.latencyMs ?? 0 };
    }
    return { action: { kind: "none" }, latencyMs: rule.latencyMs ?? 0 };
  }
}

const NUMBER_FIELDS = [
  "latencyMs",
  "rate500",
  "rate502",
  "rate503",
  "rate504",
  "resetRate",
  "resetAfterRate",
  "hangRate",
] as const;

/** Checks an admin/CLI fault body; throws with the bad field's name. */
export function parseFaultRule(value: unknown): FaultRule {
  if (typeof value !== "object" || value === null) throw new Error("fault must be an object");
  const input = value as Record<string, unknown>;
  const route = input.route ?? "*";
  if (typeof route !== "string" || route === "") throw new Error("route must be a string");
  const rule: FaultRule = { route };
  for (const field of NUMBER_FIELDS) {
    const raw = input[field];
    if (raw === undefined || raw === null) continue;
    const number = Number(raw);
    if (!Number.isFinite(number) || number < 0) {
      throw new Error(`${field} must be a non-negative number`);
    }
    if (field !== "latencyMs" && number > 1) throw new Error(`${field} must be between 0 and 1`);
    rule[field] = number;
  }
  return rule;
}
