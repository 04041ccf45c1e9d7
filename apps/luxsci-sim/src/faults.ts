import { FaultRules, parseFaultFields } from "@luxrelay/sim-kit";

// Fault injection per route (docs/architecture.md "The simulator"): what the seed's retry list is
// about (timeouts, resets, 429, 502/503/504), what a shared LuxSci server does under load
// (latency, a requests-per-minute cap, limits answered as 401, a call taken in only after the
// client's timeout fired). Rates are drawn from a PRNG seeded by (seed, route), so a given
// request order meets the same faults every run.

export interface FaultSettings {
  latencyMs?: number;
  /** A refusal as invalid (400): not retryable; what a batch LuxSci won't take looks like. */
  rate400?: number;
  /** Some LuxSci limits answer 401 (as if the auth were bad) instead of 429. */
  rate401?: number;
  rate429?: number;
  retryAfterSeconds?: number;
  rate500?: number;
  rate502?: number;
  rate503?: number;
  rate504?: number;
  /** Destroy the socket before the request is handled (nothing happens server-side). */
  resetRate?: number;
  /** Handle the request, then destroy the socket: the call took effect, the reply is lost. */
  resetAfterRate?: number;
  /** Never answer (the client's timeout fires). */
  hangRate?: number;
  /** Handle the request, answer 200 with broken JSON. */
  malformedRate?: number;
  /**
   * Hold the request `acceptLateMs`, then handle it even if the client gave up meanwhile (a
   * send is in the ledger), then answer if the socket is still open: a LuxSci slower than
   * the client's timeout.
   */
  acceptLateRate?: number;
  /** How long an acceptLate request is held before it is handled; required with acceptLateRate. */
  acceptLateMs?: number;
  /** Requests per minute on this route before 429 (LuxSci shared servers throttle). */
  rpm?: number;
}

export interface FaultRule extends FaultSettings {
  /**
   * Which requests: `METHOD /path` or `/path` relative to /perl/api/v2, `*` matching any
   * characters, e.g. "GET /user/alice/profile", a send on any user
   * ("POST /user/" + "*" + "/email/send") or "*".
   */
  route: string;
}

export type FaultAction =
  | { kind: "none" }
  | { kind: "status"; status: number; retryAfterSeconds?: number; error: string }
  | { kind: "reset" }
  | { kind: "resetAfter" }
  | { kind: "hang" }
  | { kind: "malformed" }
  | { kind: "acceptLate"; delayMs: number };

const STATUS_ERRORS: Record<number, string> = {
  400: "injected 400: message refused as invalid",
  401: "injected 401: too many requests, authentication refused",
  429: "too many requests",
};

const ORDER = [
  ["rate400", 400],
  ["rate401", 401],
  ["rate429", 429],
  ["rate500", 500],
  ["rate502", 502],
  ["rate503", 503],
  ["rate504", 504],
] as const;

/** Each rule keeps the times of its recent requests, for its requests-per-minute cap. */
export class Faults extends FaultRules<FaultRule, { window: number[] }> {
  constructor(seed: number) {
    super(seed, () => ({ window: [] }));
  }

  /** The first matching rule decides; one PRNG draw picks at most one fault. */
  decide(
    method: string,
    relativePath: string,
    nowMs: number,
  ): { action: FaultAction; latencyMs: number } {
    const active = this.match(method, relativePath);
    if (!active) return { action: { kind: "none" }, latencyMs: 0 };
    const { rule } = active;
    const latencyMs = rule.latencyMs ?? 0;
    if (rule.rpm !== undefined) {
      const cutoff = nowMs - 60_000;
      while (active.window.length > 0 && (active.window[0] as number) <= cutoff)
        active.window.shift();
      if (active.window.length >= rule.rpm) {
        const retryAfterSeconds = Math.max(
          1,
          Math.ceil(((active.window[0] as number) + 60_000 - nowMs) / 1000),
        );
        return {
          action: {
            kind: "status",
            status: 429,
            retryAfterSeconds,
            error: `rate limit: at most ${rule.rpm} requests per minute`,
          },
          latencyMs,
        };
      }
      active.window.push(nowMs);
    }
    const draw = active.random();
    let edge = 0;
    for (const [field, status] of ORDER) {
      edge += rule[field] ?? 0;
      if (draw < edge) {
        return {
          action: {
            kind: "status",
            status,
            retryAfterSeconds: status === 429 ? (rule.retryAfterSeconds ?? 1) : undefined,
            error: STATUS_ERRORS[status] ?? `injected ${status}`,
          },
          latencyMs,
        };
      }
    }
    for (const [field, kind] of [
      ["resetRate", "reset"],
      ["hangRate", "hang"],
      ["malformedRate", "malformed"],
      ["resetAfterRate", "resetAfter"],
    ] as const) {
      edge += rule[field] ?? 0;
      if (draw < edge) return { action: { kind }, latencyMs };
    }
    edge += rule.acceptLateRate ?? 0;
    if (draw < edge) {
      return { action: { kind: "acceptLate", delayMs: rule.acceptLateMs ?? 0 }, latencyMs };
    }
    return { action: { kind: "none" }, latencyMs };
  }
}

const NUMBER_FIELDS = [
  "latencyMs",
  "rate400",
  "rate401",
  "rate429",
  "retryAfterSeconds",
  "rate500",
  "rate502",
  "rate503",
  "rate504",
  "resetRate",
  "resetAfterRate",
  "hangRate",
  "malformedRate",
  "acceptLateRate",
  "acceptLateMs",
  "rpm",
] as const;

/** Checks an admin/CLI fault body; throws with the bad field's name. */
export function parseFaultRule(value: unknown): FaultRule {
  const rule: FaultRule = parseFaultFields(value, NUMBER_FIELDS);
  if ((rule.acceptLateRate ?? 0) > 0 && rule.acceptLateMs === undefined) {
    throw new Error("acceptLateMs is required with acceptLateRate");
  }
  return rule;
}
