// The simulator's clock: real time plus an offset tests can move (POST /__sim/clock), so
// events "minutes later" and auth expiry can be reached without waiting.
export class SimClock {
  offsetMs = 0;

  nowMs(): number {
    return Date.now() + this.offsetMs;
  }

  nowSeconds(): number {
    return Math.floor(this.nowMs() / 1000);
  }
}

const pad = (n: number) => String(n).padStart(2, "0");

/** LuxSci's report date format: GMT `YYYY-MM-DD HH:MM:SS`. */
export function formatGmt(ms: number): string {
  const d = new Date(ms);
  return (
    `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ` +
    `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`
  );
}

const GMT_DATE = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})$/;

/** Parses `YYYY-MM-DD HH:MM:SS` as GMT; undefined when malformed. */
export function parseGmt(text: string): number | undefined {
  const m = GMT_DATE.exec(text.trim());
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s] = m.map(Number) as number[];
  const ms = Date.UTC(y as number, (mo as number) - 1, d, h, mi, s);
  return Number.isNaN(ms) ? undefined : ms;
}
