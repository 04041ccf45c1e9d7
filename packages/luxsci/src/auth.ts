// Holds the current LuxSci `auth` value. Seed 000: every successful reply carries a fresh
// `auth` that the next request uses; several calls share one client concurrently, so this
// keeps the latest one seen and lets only one authentication run at a time.

/** Auth values remembered for scrubbing error text: older ones may still be valid. */
const REMEMBERED_AUTH_VALUES = 16;

export class AuthSession {
  private value: string | undefined;
  private readonly seen: string[] = [];
  private pending: Promise<string> | undefined;

  constructor(private readonly authenticate: () => Promise<string>) {}

  /** The auth value to sign the next request with, authenticating when there is none. */
  current(): Promise<string> {
    if (this.value !== undefined) return Promise.resolve(this.value);
    if (!this.pending) {
      this.pending = this.authenticate()
        .then((auth) => {
          this.update(auth);
          return auth;
        })
        .finally(() => {
          this.pending = undefined;
        });
    }
    return this.pending;
  }

  /** Adopts the `auth` of a successful reply. */
  update(auth: string): void {
    this.value = auth;
    this.seen.push(auth);
    if (this.seen.length > REMEMBERED_AUTH_VALUES) this.seen.shift();
  }

  /**
   * Drops the value a refused request used. When another call has meanwhile received a newer
   * value, that one is kept: the refusal was about the stale one.
   */
  invalidate(stale: string | undefined): void {
    if (stale === undefined || this.value === stale) this.value = undefined;
  }

  /** Recent auth values, to scrub out of error text. */
  recent(): readonly string[] {
    return this.seen;
  }
}
