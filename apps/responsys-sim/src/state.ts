import { hash32 } from "@luxrelay/sim-kit";
import { SimClock } from "./clock.ts";
import { Faults } from "./faults.ts";
import { TriggerLedger } from "./ledger.ts";
import { RateLimiter } from "./limits.ts";
import type { ResolvedAccount, ResolvedOptions } from "./options.ts";
import { AccountLists } from "./profiles.ts";
import { TokenStore } from "./tokens.ts";

/** Everything one simulator instance holds; routes receive it, nothing is module-global. */
export class SimState {
  readonly clock = new SimClock();
  readonly tokens: TokenStore;
  readonly limiter: RateLimiter;
  readonly faults: Faults;
  readonly ledger = new TriggerLedger();
  accountLists: AccountLists[];
  mergeFailureRate: number;
  /** The next RIID handed out; starts at a seeded value so RIIDs don't look like indexes. */
  private nextRiid: number;
  /** The `endPoint` login answers: set once the API host listens. */
  endPoint = "";

  constructor(readonly options: ResolvedOptions) {
    this.tokens = new TokenStore(
      options.accounts,
      this.clock,
      options.tokenTtlSeconds,
      options.invalidTokenStatus,
    );
    this.limiter = new RateLimiter(this.clock, options.rateLimits, options.rateLimitStatus);
    this.faults = new Faults(options.seed);
    for (const rule of options.faults) this.faults.set(rule);
    this.accountLists = options.accounts.map(() => new AccountLists());
    this.mergeFailureRate = options.mergeFailureRate;
    this.nextRiid = this.firstRiid();
  }

  private firstRiid(): number {
    return 100_000_000 + (hash32("riid", this.options.seed) % 100_000_000);
  }

  allocateRiid(): string {
    return String(this.nextRiid++);
  }

  lists(account: ResolvedAccount): AccountLists {
    return this.accountLists[account.index] as AccountLists;
  }

  /**
   * Back to the start: no profiles, triggers, tokens, limit windows or faults; clock offset 0;
   * TTL, limits and merge failure rate as the start options.
   */
  reset(): void {
    this.accountLists = this.options.accounts.map(() => new AccountLists());
    this.ledger.clear();
    this.tokens.clear();
    this.tokens.ttlSeconds = this.options.tokenTtlSeconds;
    this.limiter.clear();
    this.limiter.limits = { ...this.options.rateLimits };
    this.limiter.status = this.options.rateLimitStatus;
    this.faults.clear();
    for (const rule of this.options.faults) this.faults.set(rule);
    this.mergeFailureRate = this.options.mergeFailureRate;
    this.clock.offsetMs = 0;
    this.nextRiid = this.firstRiid();
  }
}
