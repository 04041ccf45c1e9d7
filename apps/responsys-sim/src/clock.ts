// The simulator's clock: real time plus an offset tests can move (POST /__sim/clock), so token
// expiry and the per-minute limits can be reached without waiting.
export class SimClock {
  offsetMs = 0;

  nowMs(): number {
    return Date.now() + this.offsetMs;
  }
}
