import { spawn } from "node:child_process";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createApiKey, revokeApiKey } from "@luxrelay/db";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  CHANNEL_BASE,
  call,
  documentedOperations,
  startTestProducer,
  type TestProducer,
} from "./support.ts";

// Who may call what: every route but /healthz needs a key, and the key's scope must reach the
// route's. Before API keys, anyone who reached the port could read every recipient, re-point a
// channel at their own server, or mail the whole database.

/**
 * The scope of every route, written out here rather than read from the code under test:
 * reading is `read`; whatever sends mail or reads recipients' data is `send`; whatever changes
 * where mail or credentials go is `admin`.
 */
const EXPECTED_SCOPES: Record<string, "read" | "send" | "admin" | null> = {
  "GET /healthz": null,
  "GET /openapi.json": "read",
  "GET /campaigns": "read",
  "GET /channels": "read",
  "GET /channels/:id": "read",
  "GET /offers/:id": "read",
  "GET /executions/:id": "read",
  "GET /realtime-jobs/:id": "read",
  "GET /sync-jobs/:id": "read",
  "GET /batches/:id/merge": "send",
  "POST /audiences": "send",
  "POST /campaigns": "send",
  "POST /campaigns/:id/offers": "send",
  "PUT /offers/:id/variants/:key": "send",
  "PUT /offers/:id/seeds": "send",
  "POST /offers/:id/rollback": "send",
  "POST /executions": "send",
  "POST /executions/:id/pause": "send",
  "POST /executions/:id/resume": "send",
  "POST /executions/:id/cancel": "send",
  "POST /executions/:id/replay": "send",
  "POST /realtime/:id": "send",
  "POST /channels": "admin",
  "PATCH /channels/:id": "admin",
  "POST /channels/:id/test": "admin",
  "POST /channels/:id/sync": "admin",
  "POST /reconcile": "admin",
};

/** The secret part of "lr_<12 hex>_<secret>" (the secret's base64url may hold "_" too). */
const secretOf = (key: string) => key.slice("lr_".length + 12 + 1);

let producer: TestProducer;
const keys: Record<"read" | "send" | "admin", string> = { read: "", send: "", admin: "" };

const APIKEY_SCRIPT = fileURLToPath(new URL("../src/apikey.ts", import.meta.url));
const TSX = fileURLToPath(new URL("../../../node_modules/.bin/tsx", import.meta.url));

function runApiKeyScript(
  args: string[],
): Promise<{ code: number | null; out: string; err: string }> {
  const child = spawn(TSX, [APIKEY_SCRIPT, ...args], {
    env: { ...process.env, DATABASE_URL: producer.db.url },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stdout.on("data", (chunk) => {
    out += chunk;
  });
  child.stderr.on("data", (chunk) => {
    err += chunk;
  });
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, out, err }));
  });
}

/** Every documented route with its path parameters filled in with well-formed values. */
/** Every route: the OpenAPI document's, with path parameters filled with well-formed values. */
async function documentedRoutes(): Promise<{ method: string; path: string; url: string }[]> {
  const operations = await documentedOperations(producer.url);
  return [
    { method: "GET", path: "/openapi.json", url: "/openapi.json" },
    ...operations.map(({ method, path, route }) => ({
      method,
      path: route,
      url: path.replace(/\{(\w+)\}/g, (_, name: string) =>
        name === "id" && path.startsWith("/channels") ? "0".repeat(32) : name === "key" ? "a" : "1",
      ),
    })),
  ];
}

beforeAll(async () => {
  producer = await startTestProducer();
  for (const scope of ["read", "send", "admin"] as const) {
    ({ key: keys[scope] } = await createApiKey(producer.runtime.deps.pool, {
      name: `auth-${scope}`,
      scope,
    }));
  }
});

afterAll(async () => {
  await producer?.close();
});

describe("API keys", () => {
  it("refuses every route but /healthz without a key, with 401 and the error shape", async () => {
    const routes = await documentedRoutes();
    expect(routes.length).toBeGreaterThan(20);
    for (const route of routes) {
      const reply = await call(producer.url, route.method, route.url, undefined, { key: null });
      if (route.path === "/healthz") {
        expect(reply.status, route.url).toBe(200);
        // A load balancer's HEAD probe too.
        const head = await fetch(`${producer.url}/healthz`, { method: "HEAD" });
        expect(head.status).toBe(200);
        continue;
      }
      expect(reply.status, `${route.method} ${route.url}`).toBe(401);
      expect(reply.body.error.message).toMatch(/API key is required/);
    }
    // Unknown routes too: which routes exist is not for anonymous callers.
    expect((await call(producer.url, "GET", "/nope", undefined, { key: null })).status).toBe(401);
  });

  it("answers 403 outside a key's scope and lets each scope do its part", async () => {
    const routes = await documentedRoutes();
    // Every route is in the table: a new route must be given its scope here, on purpose.
    expect(routes.map((route) => `${route.method} ${route.path}`).sort()).toEqual(
      Object.keys(EXPECTED_SCOPES).sort(),
    );
    const rank = { read: 0, send: 1, admin: 2 } as const;
    for (const route of routes) {
      const needed = EXPECTED_SCOPES[`${route.method} ${route.path}`];
      if (needed === null || needed === undefined) continue;
      for (const scope of ["read", "send", "admin"] as const) {
        const reply = await call(producer.url, route.method, route.url, undefined, {
          key: keys[scope],
        });
        const what = `${scope} ${route.method} ${route.url}`;
        if (rank[scope] >= rank[needed]) expect(reply.status, what).not.toBe(403);
        else {
          expect(reply.status, what).toBe(403);
          expect(reply.body.error.message).toContain(`needs ${needed}`);
        }
      }
    }
    // The attacks of issue 14, by a read key: re-pointing a channel, reading recipients.
    const channel = await call(producer.url, "POST", "/channels", { ...CHANNEL_BASE, name: "a" });
    const id = channel.body.channel.id as string;
    const steal = await call(
      producer.url,
      "PATCH",
      `/channels/${id}`,
      { bcc: "spy@evil.example" },
      { key: keys.send },
    );
    expect(steal.status).toBe(403);
    const merge = await call(producer.url, "GET", "/batches/1/merge", undefined, {
      key: keys.read,
    });
    expect(merge.status).toBe(403);
    const read = await call(producer.url, "GET", `/channels/${id}`, undefined, { key: keys.read });
    expect(read.status).toBe(200);
    expect(read.body.channel.bcc).toBeNull();
  });

  it("refuses a wrong secret, a malformed key and a revoked key", async () => {
    const good = keys.read;
    const wrongSecret = `${good.slice(0, -4)}AAAA`;
    for (const key of [wrongSecret, "lr_nothex_x", "Basic abc", `${good}x`]) {
      const reply = await call(producer.url, "GET", "/channels", undefined, { key });
      expect(reply.status, key.slice(0, 20)).toBe(401);
    }
    const { key: revoked } = await createApiKey(producer.runtime.deps.pool, {
      name: "to-revoke",
      scope: "admin",
    });
    await revokeApiKey(producer.runtime.deps.pool, "to-revoke");
    expect((await call(producer.url, "GET", "/channels", undefined, { key: revoked })).status).toBe(
      401,
    );
  });

  it("stores only a scrypt hash of each key", async () => {
    const { rows } = await producer.runtime.deps.pool.query("SELECT prefix, hash FROM api_key");
    for (const row of rows as { prefix: string; hash: string }[]) {
      expect(row.hash).toMatch(/^scrypt:32768:8:1:[\w-]+:[\w-]+$/);
      for (const key of Object.values(keys)) expect(row.hash).not.toContain(secretOf(key));
    }
  });

  it("refuses an upload without a key before any of it reaches the disk", async () => {
    const response = await fetch(`${producer.url}/audiences?format=csv`, {
      method: "POST",
      headers: { "content-type": "text/csv" },
      body: "email\nann@example.com\n",
    });
    expect(response.status).toBe(401);
    const files = await readdir(join(producer.stateDir, "audiences")).catch(() => []);
    expect(files).toEqual([]);
  });

  it("npm run apikey creates a key that works, printed once and listed without its secret", async () => {
    const created = await runApiKeyScript(["create", "--name", "ops", "--scope", "send"]);
    expect(created.code, created.err).toBe(0);
    const key = created.out.trim();
    expect(key).toMatch(/^lr_[0-9a-f]{12}_[\w-]{43}$/);
    expect(created.err).toContain('created API key "ops" (scope send)');
    const reply = await call(producer.url, "GET", "/campaigns", undefined, { key });
    expect(reply.status).toBe(200);
    const listed = await runApiKeyScript(["list"]);
    expect(listed.code).toBe(0);
    expect(listed.out).toMatch(/^ops\tsend\tlr_[0-9a-f]{12}_…/m);
    expect(listed.out).not.toContain(secretOf(key));
    const again = await runApiKeyScript(["create", "--name", "ops"]);
    expect(again.code).toBe(2);
    expect(again.err).toContain('a key named "ops" exists');
    const badScope = await runApiKeyScript(["create", "--name", "x", "--scope", "root"]);
    expect(badScope.code).toBe(2);
    expect(badScope.err).toContain("--scope");
  });
});
