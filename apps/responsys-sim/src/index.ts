import type { AddressInfo } from "node:net";
import type { FastifyInstance } from "fastify";
import type { FaultRule, FaultSettings } from "./faults.ts";
import type { DuplicateKey, LedgerSummary, TriggerEntry } from "./ledger.ts";
import { type RateLimits, resolveOptions, type SimulatorOptions } from "./options.ts";
import type { ProfileRecord } from "./profiles.ts";
import { applyRateLimits, rateLimitSettings } from "./routes/admin.ts";
import { buildServers } from "./server.ts";
import { SimState } from "./state.ts";

// The simulator's only public door: start one in-process (tests, benchmarks, the demo) or
// through the CLI (src/main.ts). The helpers mirror the /__sim admin API.

export type { FaultRule, FaultSettings } from "./faults.ts";
export { parseFaultRule } from "./faults.ts";
export type { DuplicateKey, LedgerSummary, TriggerEntry } from "./ledger.ts";
export type {
  ApiFunction,
  MergeFailedStyle,
  RateLimits,
  SimAccount,
  SimulatorOptions,
} from "./options.ts";
export {
  ADMIN_PATH,
  API_BASE,
  API_FUNCTIONS,
  DEMO_ACCOUNT,
  MAX_RECORDS_PER_CALL,
} from "./options.ts";
export type { ProfileRecord } from "./profiles.ts";
export type { TriggerResult } from "./trigger.ts";

export interface RateLimitSettings {
  limits: RateLimits;
  status: 401 | 429;
}

export interface ResponsysSimulator {
  /** The login host, e.g. http://127.0.0.1:8026: what a channel's "endpoint host" names. */
  loginUrl: string;
  /** The API host login answers as `endPoint` (another port). */
  endPoint: string;
  /** Where /__sim lives (the login host). */
  adminUrl: string;
  close(): Promise<void>;
  /**
   * Empties profile lists, ledger, tokens, limit windows and faults; the clock offset returns
   * to 0; TTL, limits and merge failure rate to the start options.
   */
  reset(): void;
  ledger(): LedgerSummary;
  ledgerEntries(campaign?: string): TriggerEntry[];
  duplicates(): DuplicateKey[];
  /** The records of a profile list (first account unless told), RIID_ included. */
  profiles(listName: string, accountIndex?: number): ProfileRecord[];
  setFault(route: string, fault: FaultSettings): void;
  clearFaults(): void;
  /** Limits per function (null removes one) and/or the status API_LIMIT_EXCEEDED answers. */
  setRateLimits(settings: {
    limits?: Partial<Record<keyof RateLimits, number | null>>;
    status?: 401 | 429;
  }): RateLimitSettings;
  setMergeFailureRate(rate: number): void;
  /** Lifetime of tokens issued from now on. */
  setTokenTtl(seconds: number): void;
  /** Every token issued so far stops working now (INVALID_TOKEN until a new login). */
  expireTokens(): void;
  /** Moves the simulated clock (tokens age, limit windows pass). */
  advanceClock(seconds: number): void;
}

async function listen(app: FastifyInstance, port: number, host: string): Promise<string> {
  await app.listen({ port, host });
  const { port: bound } = app.server.address() as AddressInfo;
  const shown = host === "0.0.0.0" ? "127.0.0.1" : host.includes(":") ? `[${host}]` : host;
  return `http://${shown}:${bound}`;
}

export async function startResponsysSimulator(
  options: SimulatorOptions = {},
): Promise<ResponsysSimulator> {
  const resolved = resolveOptions(options);
  if (resolved.port !== 0 && resolved.port === resolved.apiPort) {
    throw new Error("port and apiPort must differ: Responsys' endPoint is another host");
  }
  const state = new SimState(resolved);
  const { login, api, hung } = buildServers(state);
  const endPoint = await listen(api, resolved.apiPort, resolved.host);
  state.endPoint = endPoint;
  let loginUrl: string;
  try {
    loginUrl = await listen(login, resolved.port, resolved.host);
  } catch (error) {
    await api.close();
    throw error;
  }
  let closing: Promise<void> | undefined;
  return {
    loginUrl,
    endPoint,
    adminUrl: `${loginUrl}/__sim`,
    close() {
      closing ??= (async () => {
        for (const socket of hung) socket.destroy();
        await Promise.all([login.close(), api.close()]);
      })();
      return closing;
    },
    reset: () => state.reset(),
    ledger: () => state.ledger.summary(),
    ledgerEntries: (campaign) =>
      state.ledger.entries.filter((entry) => campaign === undefined || entry.campaign === campaign),
    duplicates: () => state.ledger.duplicates(),
    profiles: (listName, accountIndex = 0) => [
      ...(state.accountLists[accountIndex]?.get(listName, false)?.records.values() ?? []),
    ],
    setFault: (route, fault) => state.faults.set({ ...fault, route } satisfies FaultRule),
    clearFaults: () => state.faults.clear(),
    setRateLimits: (settings) => {
      applyRateLimits(state, settings);
      return rateLimitSettings(state);
    },
    setMergeFailureRate: (rate) => {
      if (!(rate >= 0 && rate <= 1)) throw new Error("rate must be between 0 and 1");
      state.mergeFailureRate = rate;
    },
    setTokenTtl: (seconds) => {
      if (!(seconds > 0)) throw new Error("seconds must be positive");
      state.tokens.ttlSeconds = seconds;
    },
    expireTokens: () => {
      state.tokens.expireAll();
    },
    advanceClock: (seconds) => {
      state.clock.offsetMs += seconds * 1000;
    },
  };
}
