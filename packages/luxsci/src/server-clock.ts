// LuxSci's own time, read from the `Date` header of its replies (RFC 9110 6.6.1: an origin
// server with a clock sends one). luxrelay compares moments at LuxSci (when a send was
// attempted, when its sent report can be trusted to show it, how far a report's watermark
// may move) on LuxSci's clock, never on the clock of whichever host runs the job: hosts
// disagree with LuxSci and with each other, and a reconcile window built from a host clock
// misses rows when that host runs ahead.

/** `Date` has one-second resolution and the reply spent time in flight. */
export const SERVER_CLOCK_UNCERTAINTY_MS = 2_000;

export class ServerClock {
  private offsetMs: number | undefined;
  private observedAtMs = 0;

  /** Adopts the `Date` header of a reply received at local time `receivedAtMs`. */
  observe(header: string | string[] | undefined, receivedAtMs = Date.now()): void {
    const text = Array.isArray(header) ? header[0] : header;
    if (!text) return;
    const dateMs = Date.parse(text);
    if (Number.isNaN(dateMs)) return;
    // The header truncates to the second: the reply was written in [date, date + 1 s).
    this.offsetMs = dateMs + 500 - receivedAtMs;
    this.observedAtMs = receivedAtMs;
  }

  /** LuxSci's time now, or undefined before any reply carried a Date header. */
  now(localMs = Date.now()): Date | undefined {
    return this.offsetMs === undefined ? undefined : new Date(localMs + this.offsetMs);
  }

  /** How long ago (local ms) the last Date header was read; Infinity when never. */
  ageMs(localMs = Date.now()): number {
    return this.offsetMs === undefined ? Number.POSITIVE_INFINITY : localMs - this.observedAtMs;
  }

  /** LuxSci's time minus ours, as last measured (undefined before any reply). */
  offset(): number | undefined {
    return this.offsetMs;
  }
}
