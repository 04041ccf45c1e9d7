import { spawn } from "node:child_process";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createApiKey, revokeApiKey } from "@luxrelay/db";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { requiredScope } from "../src/http/auth.ts";
import { CHANNEL_BASE, call, startTestProducer, type TestProducer } from "./support.ts";

// Who may call what: every route but /healthz needs a key, and the key's scope must reach the
// route's. Before API keys, anyone who reached the port could read every recipient, re-point a
// channel at their own server, or mail the whole database.

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
async function documentedRoutes(): Promise<{ method: string; path: string; url: string }[]> {
  const document = (await call(producer.url, "GET", "/openapi.json")).body as {
    paths: Record<string, Record<string, unknown>>;
  };
  const routes = [{ method: "GET", path: "/openapi.json", url: "/openapi.json" }];
  for (const [path, operations] of Object.entries(document.paths)) {
    for (const method of Object.keys(operations)) {
      const url = path.replace(/\{(\w+)\}/g, (_, name: string) =>
        name === "id" && path.startsWith("/channels") ? "0".repeat(32) : name === "key" ? "a" : "1",
      );
      routes.push({ method: method.toUpperCase(), path: path.replace(/\{(\w+)\}/g, ":$1"), url });
    }
  }
  return routes;
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
        continue;
      }
      expect(reply.status, `${route.method} ${route.url}`).toBe(401);
      expect(reply.body.error.message).toMatch(/API key is required/);
    }
    // Unknown routes too: which routes exist is not for anonymous callers.
    expect((await call(producer.url, "GET", "/nope", undefined, { key: null })).status).toBe(401);
  });

  it("answers 403 outside a key's scope and lets each scope do its part", async () => {
    for (const route of await documentedRoutes()) {
      const needed = requiredScope(route.method, route.path);
      if (needed === null) continue;
      for (const scope of ["read", "send"] as const) {
        const reply = await call(producer.url, route.method, route.url, undefined, {
          key: keys[scope],
        });
        const allowed = scope === "send" ? needed !== "admin" : needed === "read";
        if (allowed) expect(reply.status, `${scope} ${route.method} ${route.url}`).not.toBe(403);
        else {
          expect(reply.status, `${scope} ${route.method} ${route.url}`).toBe(403);
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
      for (const key of Object.values(keys)) expect(row.hash).not.toContain(key.split("_")[2]);
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
    expect(listed.out).not.toContain(key.split("_")[2]);
    const again = await runApiKeyScript(["create", "--name", "ops"]);
    expect(again.code).toBe(2);
    expect(again.err).toContain('a key named "ops" exists');
    const badScope = await runApiKeyScript(["create", "--name", "x", "--scope", "root"]);
    expect(badScope.code).toBe(2);
    expect(badScope.err).toContain("--scope");
  });
});
