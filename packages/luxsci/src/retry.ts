// Seed 000 "retry strategy": exponential backoff, 1 s, 2 s, 4 s ... until the configured number
// of attempts (default 10) is used up. Jitter keeps many workers from retrying in lock-step.

export const DEFAULT_MAX_ATTEMPTS = 10;
export const DEFAULT_RETRY_BASE_MS = 1_000;
/** No single backoff sleeps longer than this (10 tries at 1 s base reach 256 s). */
export const DEFAULT_MAX_RETRY_DELAY_MS = 300_000;
/** A Retry-After beyond this is capped: a worker shouldn't sleep for hours on one call. */
export const DEFAULT_MAX_RETRY_AFTER_MS = 120_000;
/** ±20% around the exponential step. */
const JITTER = 0.2;

/**
 * Delay before retry number `retry` (1 = after the first failed attempt): base·2^(retry-1)
 * with ±20% jitter, capped at maxMs.
 */
export function computeBackoffMs(
  retry: number,
  baseMs: number,
  options: { maxMs?: number; random?: () => number } = {},
): number {
  const step = baseMs * 2 ** Math.max(0, retry - 1);
  const jitter = 1 - JITTER + 2 * JITTER * (options.random ?? Math.random)();
  return Math.round(Math.min(step * jitter, options.maxMs ?? DEFAULT_MAX_RETRY_DELAY_MS));
}

/**
 * Retry-After as milliseconds: delta-seconds or an HTTP date (RFC 9110 10.2.3), capped at
 * capMs. Undefined when absent or unparseable; a date in the past gives 0.
 */
export function parseRetryAfterMs(
  value: string | string[] | undefined,
  capMs: number = DEFAULT_MAX_RETRY_AFTER_MS,
  nowMs: number = Date.now(),
): number | undefined {
  const text = (Array.isArray(value) ? value[0] : value)?.trim();
  if (!text) return undefined;
  let ms: number;
  if (/^\d+(\.\d+)?$/.test(text)) {
    ms = Math.ceil(Number(text) * 1000);
  } else {
    // HTTP dates always name a weekday and month; this keeps Date.parse from reading "-3".
    if (!/[a-z]{3}/i.test(text)) return undefined;
    const at = Date.parse(text);
    if (Number.isNaN(at)) return undefined;
    ms = Math.max(0, at - nowMs);
  }
  return Math.min(ms, capMs);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
