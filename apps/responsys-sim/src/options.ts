import type { Logger } from "@luxrelay/logger";
import type { FaultRule } from "./faults.ts";

/** A Responsys account the simulator knows (the channel's Interact credentials). */
export interface SimAccount {
  user: string;
  password: string;
}

export interface ResolvedAccount extends SimAccount {
  /** Position in the accounts list; profile lists, limits and the ledger are per account. */
  index: number;
}

/**
 * The API functions the simulator limits per minute. Names are the simulator's (the contract
 * lists `GET /rest/api/ratelimit` fields but not Oracle's function names).
 */
export const API_FUNCTIONS = ["login", "refreshToken", "mergeListMembers", "triggerEmail"] as const;
export type ApiFunction = (typeof API_FUNCTIONS)[number];

/** Calls per minute per account for each function; a function left out is unlimited. */
export type RateLimits = Partial<Record<ApiFunction, number>>;

/** How a failed merge row reads (contract: Oracle's doc example vs a recorded real reply). */
export type MergeFailedStyle = "recorded" | "documented";

export interface SimulatorOptions {
  /** Seed of every random outcome (fault draws, merge failures, the first RIID). Default 1. */
  seed?: number;
  /** Login host port (0 = any free port). */
  port?: number;
  /** API host port, the `endPoint` login answers (0 = any free port). */
  apiPort?: number;
  host?: string;
  accounts?: SimAccount[];
  /** Token lifetime. Default 7200 s (contract: Oracle says 2 h in one page, 3 h in another). */
  tokenTtlSeconds?: number;
  /** Status of INVALID_TOKEN: 401 (documented) or 500 (older pods, per one client). */
  invalidTokenStatus?: 401 | 500;
  /** Calls per minute per account per API function. Default: no limit. */
  rateLimits?: RateLimits;
  /** API_LIMIT_EXCEEDED answers 401 (Oracle's FAQ, the default) or 429. */
  rateLimitStatus?: 401 | 429;
  /** Share of otherwise valid merge records answered MERGEFAILED (seeded per record). */
  mergeFailureRate?: number;
  mergeFailedStyle?: MergeFailedStyle;
  /** When set, only these profile lists exist (others: 404); default any name, made on use. */
  lists?: string[];
  /** When set, only these campaigns exist (others: 404); default any name. */
  campaigns?: string[];
  faults?: FaultRule[];
  /** Largest request body accepted (the gateway drops the connection above). Default 10 MB. */
  bodyLimitBytes?: number;
  logger?: Logger;
}

export interface ResolvedOptions {
  seed: number;
  port: number;
  apiPort: number;
  host: string;
  accounts: ResolvedAccount[];
  tokenTtlSeconds: number;
  invalidTokenStatus: 401 | 500;
  rateLimits: RateLimits;
  rateLimitStatus: 401 | 429;
  mergeFailureRate: number;
  mergeFailedStyle: MergeFailedStyle;
  lists: string[] | null;
  campaigns: string[] | null;
  faults: FaultRule[];
  bodyLimitBytes: number;
  logger: Logger | undefined;
}

export const API_BASE = "/rest/api/v1.3";
export const ADMIN_PATH = "/__sim";
/** Records per merge call and recipients per trigger call (contract). */
export const MAX_RECORDS_PER_CALL = 200;

export const DEMO_ACCOUNT: SimAccount = { user: "demo", password: "demo-pass" };

function rate(name: string, value: number | undefined): number {
  const resolved = value ?? 0;
  if (!(resolved >= 0 && resolved <= 1)) throw new Error(`${name} must be between 0 and 1`);
  return resolved;
}

/** Checks a rate-limit map; throws with the bad function's name. */
export function parseRateLimits(value: unknown): RateLimits {
  if (typeof value !== "object" || value === null) throw new Error("limits must be an object");
  const limits: RateLimits = {};
  for (const [name, raw] of Object.entries(value)) {
    if (!(API_FUNCTIONS as readonly string[]).includes(name)) {
      throw new Error(`unknown API function ${name} (one of ${API_FUNCTIONS.join(", ")})`);
    }
    if (raw === null) continue;
    const limit = Number(raw);
    if (!Number.isInteger(limit) || limit < 0) {
      throw new Error(`${name} must be a non-negative integer of calls per minute`);
    }
    limits[name as ApiFunction] = limit;
  }
  return limits;
}

export function resolveOptions(options: SimulatorOptions): ResolvedOptions {
  const accounts = (options.accounts?.length ? options.accounts : [DEMO_ACCOUNT]).map(
    (account, index): ResolvedAccount => ({ ...account, index }),
  );
  return {
    seed: options.seed ?? 1,
    port: options.port ?? 0,
    apiPort: options.apiPort ?? 0,
    host: options.host ?? "127.0.0.1",
    accounts,
    tokenTtlSeconds: options.tokenTtlSeconds ?? 7200,
    invalidTokenStatus: options.invalidTokenStatus ?? 401,
    rateLimits: parseRateLimits(options.rateLimits ?? {}),
    rateLimitStatus: options.rateLimitStatus ?? 401,
    mergeFailureRate: rate("mergeFailureRate", options.mergeFailureRate),
    mergeFailedStyle: options.mergeFailedStyle ?? "recorded",
    lists: options.lists ?? null,
    campaigns: options.campaigns ?? null,
    faults: options.faults ?? [],
    bodyLimitBytes: options.bodyLimitBytes ?? 10 * 1024 * 1024,
    logger: options.logger,
  };
}
