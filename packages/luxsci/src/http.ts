import type { Logger } from "@luxrelay/logger";
import { redactString } from "@luxrelay/logger";
import { AuthSession } from "./auth.ts";
import { epochSeconds } from "./dates.ts";
import { LuxSciAuthError } from "./errors/auth-error.ts";
import {
  classifyReply,
  classifyTransportError,
  type Envelope,
  type Failure,
  isRetryableFailure,
  toLuxSciError,
} from "./errors/classify.ts";
import { LuxSciRequestError } from "./errors/request-error.ts";
import { computeBackoffMs, sleep } from "./retry.ts";
import { ServerClock } from "./server-clock.ts";
import { buildSignatureCookie, signAuth } from "./signing.ts";
import { type OutgoingRequest, Transport, type TransportOptions } from "./transport.ts";

export interface HttpSettings extends TransportOptions {
  baseUrl: string;
  user: string;
  token: string;
  secret: string;
  password?: string | undefined;
  maxAttempts: number;
  retryBaseMs: number;
  maxRetryDelayMs: number;
  maxRetryAfterMs: number;
  retryRateLimited: boolean;
  logger?: Logger | undefined;
}

export interface CallSpec<T> {
  method: OutgoingRequest["method"];
  /** Path below the base URL, e.g. "/user/alice/profile". */
  path: string;
  query?: URLSearchParams | undefined;
  body?: unknown;
  /** Turns the reply envelope into the typed result; throw ShapeError on a contract breach. */
  parse: (envelope: Envelope) => T;
  /** Call-specific secrets to keep out of error text (an export's destination_password). */
  secrets?: string[] | undefined;
  /** Overrides the client's attempt limit for this call. */
  maxAttempts?: number | undefined;
  /** false: a 404 is final (a DELETE of something already gone), not retried. */
  retryNotFound?: boolean;
}

/** Thrown by a `parse` function when a reply breaks the contract's shape. */
export class ShapeError extends Error {
  override readonly name = "ShapeError";
}

const MIN_SECRET_LENGTH = 4;

/**
 * The request engine every endpoint goes through: authenticates, signs, sends, classifies the
 * outcome once, retries what seed 000 calls retryable with backoff, re-authenticates once on
 * 401/403, and throws one of the named LuxSci errors with secrets scrubbed.
 */
export class LuxSciHttp {
  readonly user: string;
  private readonly transport: Transport;
  private readonly prefix: string;
  private readonly session: AuthSession;
  /** LuxSci's time, from the Date header of every reply (errors included). */
  readonly clock = new ServerClock();

  constructor(private readonly settings: HttpSettings) {
    const url = new URL(settings.baseUrl);
    this.user = settings.user;
    this.prefix = url.pathname.replace(/\/+$/, "");
    this.transport = new Transport(url.origin, settings);
    this.session = new AuthSession(() => this.authenticate());
  }

  /** A signed call to a user-scope endpoint. */
  call<T>(spec: CallSpec<T>): Promise<T> {
    return this.run(spec, true);
  }

  /** "/user/<u>" + suffix: the user-scope endpoints all live below it. */
  userPath(suffix: string): string {
    return `/user/${encodeURIComponent(this.user)}${suffix}`;
  }

  /** The path as sent (base path included), for errors raised before any request. */
  fullPath(path: string): string {
    return this.prefix + path;
  }

  close(): Promise<void> {
    return this.transport.close();
  }

  /** `POST /auth` (seed 000 outbound step 1). API scope unless a password was given. */
  private authenticate(): Promise<string> {
    const { user, token, secret, password } = this.settings;
    const date = epochSeconds();
    const userScope = password !== undefined;
    const signature = signAuth({
      secret,
      token,
      date,
      ...(userScope ? { user, pass: password } : {}),
    });
    return this.run<string>(
      {
        method: "POST",
        path: "/auth",
        body: {
          user: userScope ? user : null,
          pass: userScope ? password : null,
          token,
          secret: null,
          debug: null,
          date,
          signature,
        },
        parse: (envelope) => {
          if (typeof envelope.auth !== "string" || envelope.auth === "") {
            throw new ShapeError("auth reply without an auth value");
          }
          return envelope.auth;
        },
      },
      false,
    );
  }

  private async run<T>(spec: CallSpec<T>, signed: boolean): Promise<T> {
    const path = this.prefix + spec.path;
    const query = spec.query?.toString() ?? "";
    const body = spec.body === undefined ? undefined : JSON.stringify(spec.body);
    const maxAttempts = Math.max(1, spec.maxAttempts ?? this.settings.maxAttempts);
    let lastAuth: string | undefined;
    const scrub = (text: string) => this.scrub(text, [...(spec.secrets ?? []), lastAuth ?? ""]);
    let attempts = 0;
    let reauthenticated = false;
    let authFailure: LuxSciAuthError | undefined;
    for (;;) {
      let auth: string | undefined;
      if (signed) {
        try {
          auth = await this.session.current();
        } catch (error) {
          // A refused authentication gets one more try, like a refused request (contract).
          if (error instanceof LuxSciAuthError && !reauthenticated) {
            reauthenticated = true;
            authFailure = error;
            continue;
          }
          if (error instanceof LuxSciAuthError && authFailure) {
            throw new LuxSciAuthError({
              method: error.method,
              path: error.path,
              status: error.status,
              attempts: authFailure.attempts + error.attempts,
              luxsciMessage: error.luxsciMessage,
            });
          }
          throw error;
        }
      }
      attempts += 1;
      lastAuth = auth;
      const cookie =
        auth === undefined
          ? undefined
          : buildSignatureCookie({
              secret: this.settings.secret,
              auth,
              method: spec.method,
              path,
              query,
              body,
            });
      const outcome = await this.transport
        .send({ method: spec.method, path, query, body, cookie })
        .then((reply) => {
          this.clock.observe(reply.headers.date);
          return classifyReply(reply, this.settings.maxRetryAfterMs);
        })
        .catch((error: unknown) => ({
          ok: false as const,
          failure: classifyTransportError(error),
        }));
      if (outcome.ok) {
        if (typeof outcome.envelope.auth === "string" && outcome.envelope.auth !== "") {
          this.session.update(outcome.envelope.auth);
        }
        return this.parse(spec, outcome.envelope, { method: spec.method, path, attempts });
      }
      const failure: Failure = outcome.failure;
      if (failure.kind === "auth" && signed && !reauthenticated) {
        // Expired or rotated-away auth: authenticate afresh once (contract "Authentication").
        reauthenticated = true;
        this.session.invalidate(auth);
        continue;
      }
      const finalNotFound = spec.retryNotFound === false && failure.status === 404;
      if (
        !finalNotFound &&
        isRetryableFailure(failure, this.settings.retryRateLimited) &&
        attempts < maxAttempts
      ) {
        // Retry-After is a floor, never a shortcut: "Retry-After: 0" must not turn the backoff
        // into a tight loop that burns every attempt in a few milliseconds.
        const backoffMs = computeBackoffMs(attempts, this.settings.retryBaseMs, {
          maxMs: this.settings.maxRetryDelayMs,
        });
        const retryAfterMs = "retryAfterMs" in failure ? (failure.retryAfterMs ?? 0) : 0;
        const delayMs = Math.max(backoffMs, retryAfterMs);
        this.settings.logger?.warn(
          {
            method: spec.method,
            path,
            status: failure.status,
            code: "code" in failure ? failure.code : undefined,
            attempt: attempts,
            delayMs,
          },
          "LuxSci call failed, retrying",
        );
        await sleep(delayMs);
        continue;
      }
      const error = toLuxSciError(failure, { method: spec.method, path, attempts }, scrub);
      // Refused again right after a fresh authentication that LuxSci accepted: the credentials
      // work, so this is LuxSci limiting the account (it answers some limits with 401).
      if (error instanceof LuxSciAuthError && signed && reauthenticated && !authFailure) {
        throw new LuxSciAuthError({ ...error, refused: true }, { afterFreshAuth: true });
      }
      throw error;
    }
  }

  private parse<T>(
    spec: CallSpec<T>,
    envelope: Envelope,
    where: { method: string; path: string; attempts: number },
  ): T {
    try {
      return spec.parse(envelope);
    } catch (error) {
      if (!(error instanceof ShapeError)) throw error;
      throw new LuxSciRequestError(
        { ...where, status: 200, luxsciMessage: this.scrub(error.message, spec.secrets) },
        "reply breaks the contract",
      );
    }
  }

  /** Removes every credential the client knows of, then URL/query/cookie secrets. */
  private scrub(text: string, extra: string[] = []): string {
    const known = [
      this.settings.secret,
      this.settings.password,
      this.settings.token,
      ...this.session.recent(),
      ...extra,
    ];
    let out = text;
    for (const secret of known) {
      if (secret && secret.length >= MIN_SECRET_LENGTH) out = out.split(secret).join("[redacted]");
    }
    return redactString(out);
  }
}
