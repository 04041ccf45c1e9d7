import {
  type ApiKeyRecord,
  apiKeyDigest,
  findApiKey,
  type Queryable,
  scopeAllows,
  type TApiScope,
  touchApiKey,
} from "@luxrelay/db";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { ErrorBody } from "./errors.ts";

// Who may call what (docs/security.md). Every route but GET /healthz needs
// `Authorization: Bearer <key>`; the key's scope must reach the route's: reading is `read`,
// anything that sends mail, uploads or reads recipients' data is `send`, and anything that
// changes where mail goes or where credentials are sent (channels, sync, reconcile) is
// `admin`. The check runs on onRequest, before a body is read: an upload without a key is
// refused before a byte of it reaches the disk.

/** Routes anyone may call: the load balancer's liveness probe. */
const PUBLIC_ROUTES: ReadonlySet<string> = new Set(["GET /healthz"]);

/** Routes whose scope is not the default of their method (GET read, others send). */
const SCOPE_OVERRIDES: Readonly<Record<string, TApiScope>> = {
  // Every recipient of a batch with their merge data: personal data, not a status read.
  "GET /batches/:id/merge": "send",
  "POST /channels": "admin",
  "PATCH /channels/:id": "admin",
  "POST /channels/:id/test": "admin",
  "POST /channels/:id/sync": "admin",
  "POST /reconcile": "admin",
};

/** The scope a route needs; null for a public one. */
export function requiredScope(method: string, url: string): TApiScope | null {
  // fastify answers HEAD with the GET route: the same rule (a load balancer's HEAD probe).
  const verb = method.toUpperCase() === "HEAD" ? "GET" : method.toUpperCase();
  const route = `${verb} ${url}`;
  if (PUBLIC_ROUTES.has(route)) return null;
  return SCOPE_OVERRIDES[route] ?? (verb === "GET" ? "read" : "send");
}

/** Verified keys are kept this long, so scrypt runs once per key per period, not per call. */
const KEY_CACHE_MS = 30_000;
const KEY_CACHE_MAX = 1000;
/** last_used_at is a hint for operators: one write per key per minute. */
const TOUCH_INTERVAL_MS = 60_000;
/**
 * scrypt checks at once. Each takes 32 MiB and a libuv thread, which file I/O shares: a
 * flood of wrong secrets for a known prefix waits its turn instead of stalling uploads.
 */
const MAX_KEY_CHECKS_AT_ONCE = 2;

declare module "fastify" {
  interface FastifyRequest {
    /** The API key the request came with, once the auth hook has checked it. */
    apiKey?: ApiKeyRecord;
  }
}

function deny(reply: FastifyReply, status: 401 | 403, message: string) {
  if (status === 401) reply.header("WWW-Authenticate", 'Bearer realm="luxrelay"');
  return reply.code(status).send({ error: { message } } satisfies ErrorBody);
}

function bearerOf(request: FastifyRequest): string | null {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? "");
  return match?.[1] ?? null;
}

export function useApiKeys(app: FastifyInstance, db: Queryable): void {
  const cache = new Map<string, { record: ApiKeyRecord; until: number }>();
  const touched = new Map<number, number>();
  let checking = 0;
  const waiting: (() => void)[] = [];

  async function check(key: string): Promise<ApiKeyRecord | null> {
    // A finished check hands its slot to the next waiter, so at most this many ever run.
    if (checking < MAX_KEY_CHECKS_AT_ONCE) checking++;
    else await new Promise<void>((go) => waiting.push(go));
    try {
      return await findApiKey(db, key);
    } finally {
      const next = waiting.shift();
      if (next) next();
      else checking--;
    }
  }

  async function lookup(key: string): Promise<ApiKeyRecord | null> {
    const digest = apiKeyDigest(key);
    const cached = cache.get(digest);
    if (cached && cached.until > Date.now()) return cached.record;
    const record = await check(key);
    if (!record) {
      cache.delete(digest);
      return null;
    }
    if (cache.size >= KEY_CACHE_MAX) cache.clear();
    cache.set(digest, { record, until: Date.now() + KEY_CACHE_MS });
    return record;
  }

  app.decorateRequest("apiKey", undefined);
  app.addHook("onRequest", async (request, reply) => {
    // An unknown route needs a key too: which routes exist is not for anonymous callers.
    const url = request.routeOptions.url;
    const needed = url === undefined ? "read" : requiredScope(request.method, url);
    if (needed === null) return;
    const presented = bearerOf(request);
    if (!presented) {
      return deny(reply, 401, "an API key is required: send Authorization: Bearer <key>");
    }
    const record = await lookup(presented);
    if (!record) return deny(reply, 401, "the API key is not valid (unknown or revoked)");
    request.apiKey = record;
    if (!scopeAllows(record.scope, needed)) {
      return deny(
        reply,
        403,
        `API key "${record.name}" has scope ${record.scope}; ${request.method} ${url} needs ${needed}`,
      );
    }
    const now = Date.now();
    if ((touched.get(record.id) ?? 0) + TOUCH_INTERVAL_MS < now) {
      touched.set(record.id, now);
      touchApiKey(db, record.id).catch((error: unknown) =>
        request.log.warn({ err: error, apiKeyName: record.name }, "could not stamp last_used_at"),
      );
    }
  });
}
