import type { Socket } from "node:net";
import { hash32, mulberry32 } from "./prng.ts";

// Fault rules as both simulators take them: a route pattern and numbers (rates, delays). The
// rules in force are matched in order, the first match decides, and each rule draws from a PRNG
// seeded by (seed, route), so a given request order meets the same faults every run. What a
// draw means (which statuses, which socket tricks) is each simulator's own.

/**
 * `METHOD /path` or `/path` (any method), `*` matching any characters, e.g.
 * "POST /campaigns/" + "*" + "/email" or "*".
 */
export function compileRoute(route: string): RegExp {
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

export type ActiveFaultRule<TRule, TExtra> = {
  rule: TRule;
  pattern: RegExp;
  random: () => number;
} & TExtra;

/** The rules in force; `extra` makes a rule's own state (a rate window, say) when it is set. */
export class FaultRules<TRule extends { route: string }, TExtra extends object = object> {
  private active: ActiveFaultRule<TRule, TExtra>[] = [];

  constructor(
    private readonly seed: number,
    private readonly extra: () => TExtra = () => ({}) as TExtra,
  ) {}

  /** Adds or replaces (same route) a rule; its draws start again from the seed. */
  set(rule: TRule): void {
    this.active = this.active.filter((active) => active.rule.route !== rule.route);
    this.active.push({
      rule,
      pattern: compileRoute(rule.route),
      random: mulberry32(hash32(rule.route, this.seed)),
      ...this.extra(),
    } as ActiveFaultRule<TRule, TExtra>);
  }

  clear(): void {
    this.active = [];
  }

  list(): TRule[] {
    return this.active.map((active) => active.rule);
  }

  /** The first rule whose route matches `METHOD /relative/path`. */
  match(method: string, relativePath: string): ActiveFaultRule<TRule, TExtra> | undefined {
    const key = `${method} ${relativePath}`;
    return this.active.find((candidate) => candidate.pattern.test(key));
  }
}

/**
 * Checks an admin/CLI fault body and takes its `fields`; throws naming the bad field. Every
 * number is non-negative, and a rate (`rate...` or `...Rate`) is at most 1.
 */
export function parseFaultFields<TField extends string>(
  value: unknown,
  fields: readonly TField[],
): { route: string } & Partial<Record<TField, number>> {
  if (typeof value !== "object" || value === null) throw new Error("fault must be an object");
  const input = value as Record<string, unknown>;
  const route = input.route ?? "*";
  if (typeof route !== "string" || route === "") throw new Error("route must be a string");
  const numbers: Partial<Record<TField, number>> = {};
  for (const field of fields) {
    const raw = input[field];
    if (raw === undefined || raw === null) continue;
    const number = Number(raw);
    if (!Number.isFinite(number) || number < 0) {
      throw new Error(`${field} must be a non-negative number`);
    }
    if ((field.endsWith("Rate") || field.startsWith("rate")) && number > 1) {
      throw new Error(`${field} must be between 0 and 1`);
    }
    numbers[field] = number;
  }
  return { route, ...numbers };
}

/**
 * Takes a request's socket from the HTTP server and breaks it: `reset` destroys it at once;
 * `hang` never answers, keeping the socket in `hung` until the client gives up (or the
 * simulator closes, destroying what is left there).
 */
export function breakConnection(
  kind: "reset" | "hang",
  reply: { hijack(): void },
  socket: Socket,
  hung: Set<Socket>,
): void {
  reply.hijack();
  if (kind === "reset") {
    socket.destroy();
    return;
  }
  hung.add(socket);
  socket.once("close", () => hung.delete(socket));
}
