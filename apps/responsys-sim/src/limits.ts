import type { SimClock } from "./clock.ts";
import { apiLimitExceeded } from "./errors.ts";
import type { ApiFunction, RateLimits } from "./options.ts";

// Per-minute limits per account and API function (contract "Errors and limits"): the calls of
// the last 60 s on the simulated clock are counted (a sliding window: Oracle does not say how
// its minute is cut); a refused call does not count. Exceeding answers API_LIMIT_EXCEEDED with
// 401 (Oracle's FAQ) or 429, as configured, and no Retry-After (none is documented).

export class RateLimiter {
  private readonly windows = new Map<string, number[]>();
  limits: RateLimits;
  status: 401 | 429;

  constructor(
    private readonly clock: SimClock,
    limits: RateLimits,
    status: 401 | 429,
  ) {
    this.limits = { ...limits };
    this.status = status;
  }

  /** Counts one call of `fn` for `key` (an account, or a user name at login) or throws. */
  take(fn: ApiFunction, key: string): void {
    const limit = this.limits[fn];
    if (limit === undefined) return;
    const now = this.clock.nowMs();
    const windowKey = `${fn}\0${key}`;
    const calls = (this.windows.get(windowKey) ?? []).filter((at) => at > now - 60_000);
    if (calls.length >= limit) {
      this.windows.set(windowKey, calls);
      throw apiLimitExceeded(this.status, fn, limit);
    }
    calls.push(now);
    this.windows.set(windowKey, calls);
  }

  clear(): void {
    this.windows.clear();
  }
}
