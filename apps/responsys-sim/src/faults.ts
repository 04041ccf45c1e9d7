import { FaultRules, parseFaultFields } from "@luxrelay/sim-kit";

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

const DRAWS = [
  ["rate500", { kind: "status", status: 500 }],
  ["rate502", { kind: "status", status: 502 }],
  ["rate503", { kind: "status", status: 503 }],
  ["rate504", { kind: "status", status: 504 }],
  ["resetRate", { kind: "reset" }],
  ["hangRate", { kind: "hang" }],
  ["resetAfterRate", { kind: "resetAfter" }],
] as const satisfies readonly (readonly [keyof FaultSettings, FaultAction])[];

export class Faults extends FaultRules<FaultRule> {
  /** The first matching rule decides; one PRNG draw picks at most one fault. */
  decide(method: string, relativePath: string): { action: FaultAction; latencyMs: number } {
    const active = this.match(method, relativePath);
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
  return parseFaultFields(value, NUMBER_FIELDS);
}
