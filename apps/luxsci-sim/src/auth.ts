import { createHash, createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import type { SimClock } from "./clock.ts";
import type { ResolvedAccount } from "./options.ts";

// Seed 000 outbound step 1 and the contract's "Authentication": POST /auth is signed with
// the API secret; every later call carries `signature=<auth>:<hmac>` over the exact request.
// Both are recomputed here from the contract text, never imported from packages/luxsci.

export class AuthError extends Error {}

export interface AuthRequest {
  user?: unknown;
  pass?: unknown;
  token?: unknown;
  date?: unknown;
  signature?: unknown;
}

const hmacHex = (secret: string, text: string) =>
  createHmac("sha256", secret).update(text).digest("hex");

function sameHex(a: string, b: string): boolean {
  const left = Buffer.from(a, "utf8");
  const right = Buffer.from(b, "utf8");
  return left.length === right.length && timingSafeEqual(left, right);
}

export const EMPTY_BODY_HASH = "";

/** Lowercase hex SHA-256 of the exact body bytes (the cookie's last line). */
export function bodyHash(method: string, body: Buffer | undefined): string {
  // Contract: "empty for GET and DELETE".
  if (method === "GET" || method === "DELETE" || method === "HEAD") return EMPTY_BODY_HASH;
  return createHash("sha256")
    .update(body ?? Buffer.alloc(0))
    .digest("hex");
}

export class AuthService {
  // Signs issued `auth` values so they can be checked without a session table: a 1M-message
  // run issues one per call, and LuxSci lets every connection of a client reuse the latest.
  private readonly serverKey = randomBytes(32);
  private nonce = 0;
  private readonly byToken: Map<string, ResolvedAccount>;
  private readonly byUid: Map<string, ResolvedAccount>;

  constructor(
    accounts: ResolvedAccount[],
    private readonly clock: SimClock,
    private readonly validitySeconds: number,
    private readonly dateSkewSeconds: number,
  ) {
    this.byToken = new Map(accounts.map((a) => [a.token, a]));
    this.byUid = new Map(accounts.map((a) => [a.uid, a]));
  }

  /** POST /auth: API scope (user/pass null) or user scope. Returns the account or throws. */
  authenticate(body: AuthRequest): ResolvedAccount {
    const { token, signature, user, pass } = body;
    // LuxSci's public PHP client sends `date` as PHP's time(), a JSON number; the contract's
    // samples send a string. Either is signed over its decimal text.
    const date =
      typeof body.date === "number" && Number.isFinite(body.date) ? String(body.date) : body.date;
    if (typeof token !== "string" || typeof date !== "string" || typeof signature !== "string") {
      throw new AuthError("token and signature are required strings, date a string or a number");
    }
    const account = this.byToken.get(token);
    if (!account) throw new AuthError("unknown API token");
    const dateSeconds = Number(date);
    // The date check uses real time, not the simulated clock: a test that moves the clock
    // forward to surface events must still be able to re-authenticate.
    if (
      !Number.isFinite(dateSeconds) ||
      Math.abs(Date.now() / 1000 - dateSeconds) > this.dateSkewSeconds
    ) {
      throw new AuthError(`date must be epoch seconds within ${this.dateSkewSeconds} s of now`);
    }
    let text = `${token}\n${date}\n`;
    const userScope = user !== null && user !== undefined;
    if (userScope) {
      if (typeof user !== "string" || typeof pass !== "string") {
        throw new AuthError("user and pass must be strings for user-scope auth");
      }
      text += `${user}\n${pass}\n`;
    }
    if (!sameHex(hmacHex(account.secret, text), signature.toLowerCase())) {
      throw new AuthError("signature does not match");
    }
    if (userScope && (user !== account.user || pass !== account.pass)) {
      throw new AuthError("user or password is wrong");
    }
    return account;
  }

  /** A fresh `auth` value shaped like seed 000's: `<uid>-<epoch>-<64 hex>`. */
  issue(account: ResolvedAccount): string {
    const prefix = `${account.uid}-${this.clock.nowSeconds()}`;
    const nonce = (this.nonce++).toString(16).padStart(16, "0");
    const mac = createHmac("sha256", this.serverKey).update(`${prefix}-${nonce}`).digest("hex");
    return `${prefix}-${nonce}${mac.slice(0, 48)}`;
  }

  /**
   * Checks a `signature=<auth>:<hmac>` cookie against the request as received: method, path
   * as sent, raw query, SHA-256 of the body bytes. Returns the account or throws.
   */
  verifyCookie(
    cookieHeader: string | undefined,
    method: string,
    rawUrl: string,
    body: Buffer | undefined,
  ): ResolvedAccount {
    const cookie = /(?:^|;\s*)signature=([^;]+)/.exec(cookieHeader ?? "")?.[1];
    if (!cookie) throw new AuthError("missing signature cookie");
    const colon = cookie.lastIndexOf(":");
    if (colon < 0) throw new AuthError("signature cookie must be <auth>:<signature>");
    const auth = cookie.slice(0, colon);
    const signature = cookie.slice(colon + 1);
    const parts = /^(\d+)-(\d+)-([0-9a-f]{16})([0-9a-f]{48})$/.exec(auth);
    if (!parts) throw new AuthError("malformed auth value");
    const [, uid, epoch, nonce, mac] = parts as unknown as [string, string, string, string, string];
    const expected = createHmac("sha256", this.serverKey)
      .update(`${uid}-${epoch}-${nonce}`)
      .digest("hex")
      .slice(0, 48);
    const account = this.byUid.get(uid);
    if (!account || !sameHex(expected, mac)) throw new AuthError("unknown auth value");
    if (this.clock.nowSeconds() - Number(epoch) > this.validitySeconds) {
      throw new AuthError("auth expired: authenticate again");
    }
    const question = rawUrl.indexOf("?");
    const path = question < 0 ? rawUrl : rawUrl.slice(0, question);
    const query = question < 0 ? "" : rawUrl.slice(question + 1);
    const text = `${auth}\n${method}\n${path}\n${query}\n${bodyHash(method, body)}\n`;
    if (!sameHex(hmacHex(account.secret, text), signature.toLowerCase())) {
      throw new AuthError("cookie signature does not match the request");
    }
    return account;
  }
}
