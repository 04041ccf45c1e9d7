import { randomBytes } from "node:crypto";
import type { SimClock } from "./clock.ts";
import { invalidToken, invalidUserNamePassword, type ResponsysError } from "./errors.ts";
import type { ResolvedAccount } from "./options.ts";

// Auth tokens (contract "Authentication"): opaque strings sent raw in `Authorization`, valid
// `tokenTtlSeconds` on the simulated clock from their issue. A refresh issues a new token and
// leaves the old one valid until its own expiry (not confirmed; the gentler reading, so a call
// in flight during a refresh is not refused).

interface IssuedToken {
  account: ResolvedAccount;
  issuedAt: number;
  expiresAt: number;
}

export interface TokenReply {
  authToken: string;
  issuedAt: number;
  endPoint: string;
}

export class TokenStore {
  private readonly tokens = new Map<string, IssuedToken>();
  ttlSeconds: number;

  constructor(
    private readonly accounts: ResolvedAccount[],
    private readonly clock: SimClock,
    ttlSeconds: number,
    private readonly invalidTokenStatus: 401 | 500,
  ) {
    this.ttlSeconds = ttlSeconds;
  }

  /** The account of a user name and password, or INVALID_USER_NAME_PASSWORD. */
  login(user: string, password: string): ResolvedAccount {
    const account = this.accounts.find((a) => a.user === user && a.password === password);
    if (!account) throw invalidUserNamePassword();
    return account;
  }

  issue(account: ResolvedAccount): { authToken: string; issuedAt: number } {
    const issuedAt = this.clock.nowMs();
    const authToken = randomBytes(24).toString("base64url");
    this.tokens.set(authToken, {
      account,
      issuedAt,
      expiresAt: issuedAt + this.ttlSeconds * 1000,
    });
    return { authToken, issuedAt };
  }

  /** The account of a live token (the raw `Authorization` value), or INVALID_TOKEN. */
  verify(header: string | undefined): ResolvedAccount {
    // The contract: the raw token, no "Bearer". A "Bearer " prefix is refused like any bad token.
    const token = header === undefined ? undefined : this.tokens.get(header);
    if (!token || token.expiresAt <= this.clock.nowMs()) {
      if (token) this.tokens.delete(header as string);
      throw this.invalid();
    }
    return token.account;
  }

  invalid(): ResponsysError {
    return invalidToken(this.invalidTokenStatus);
  }

  /** Every token issued so far expires now (admin: force the client's re-login). */
  expireAll(): number {
    const count = this.tokens.size;
    this.tokens.clear();
    return count;
  }

  clear(): void {
    this.tokens.clear();
  }
}
