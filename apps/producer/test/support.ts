import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { type Config, loadConfig } from "@luxrelay/config";
import { createApiKey } from "@luxrelay/db";
import { createQueue, QUEUE_NAMES } from "@luxrelay/jobs";
import { createLogger } from "@luxrelay/logger";
import { createOutboundRuntime, type OutboundRuntime } from "@luxrelay/outbound";
import {
  createTestDatabase,
  createTestQueues,
  type TestDatabase,
  type TestQueues,
} from "@luxrelay/testkit";
import type { FastifyInstance } from "fastify";
import { buildProducerApi } from "../src/server.ts";

// A producer API on its own database, queue prefix and state folder, listening on a free
// port, with every log line kept so tests can check that no secret was written.

export interface TestProducer {
  url: string;
  app: FastifyInstance;
  runtime: OutboundRuntime;
  config: Config;
  db: TestDatabase;
  redis: TestQueues;
  stateDir: string;
  logs: string[];
  /** An admin API key; call() sends it for requests to this producer. */
  key: string;
  close(): Promise<void>;
}

/** The key call() sends to each test producer, by its URL. */
const KEYS = new Map<string, string>();

/** `env`: settings of this producer's own, over the machine's (e.g. AUDIENCE_TABLES). */
export async function startTestProducer(
  options: { env?: Record<string, string> } = {},
): Promise<TestProducer> {
  const db = await createTestDatabase({ migrated: true });
  const redis = createTestQueues();
  const stateDir = await mkdtemp(join(tmpdir(), "lr-producer-"));
  // The machine's configuration (Redis, PostgreSQL), pointed at this test's own database,
  // queue prefix and state folder; LuxSci calls fail fast; channels created without
  // apiRetries take LUXSCI_RETRIES (3 here, 10 by default).
  // biome-ignore lint/style/noProcessEnv: the machine's settings, as loadConfig() reads them
  const base = loadConfig({ ...process.env, ...options.env });
  const config: Config = {
    ...base,
    nodeEnv: "test",
    databaseUrl: db.url,
    queuePrefix: redis.prefix,
    luxsci: { ...base.luxsci, allowHttp: true, retries: 3, retryBaseMs: 10, timeoutMs: 5000 },
    sync: { ...base.sync, stateDir },
  };
  const logs: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, callback) {
      logs.push(String(chunk));
      callback();
    },
  });
  const logger = createLogger({ name: "producer", level: "debug", destination });
  const runtime = createOutboundRuntime(config, logger);
  const reportsQueue = createQueue(QUEUE_NAMES.reports, {
    connection: redis.connection,
    prefix: redis.prefix,
  });
  const realtimeQueue = createQueue(QUEUE_NAMES.realtime, {
    connection: redis.connection,
    prefix: redis.prefix,
  });
  const app = await buildProducerApi(runtime.deps, config, logger, { reportsQueue, realtimeQueue });
  const url = await app.listen({ host: "127.0.0.1", port: 0 });
  const { key } = await createApiKey(runtime.deps.pool, { name: "test-admin", scope: "admin" });
  KEYS.set(url, key);
  return {
    url,
    app,
    runtime,
    config,
    db,
    redis,
    stateDir,
    logs,
    key,
    async close() {
      KEYS.delete(url);
      await app.close();
      await reportsQueue.close();
      await realtimeQueue.close();
      await runtime.close();
      await redis.cleanup();
      await db.drop();
      await rm(stateDir, { recursive: true, force: true });
    },
  };
}

export interface JsonResponse {
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: test assertions walk arbitrary JSON replies
  body: any;
  text: string;
}

/** The Authorization header of a test producer's admin key (for requests made without call()). */
export function authHeader(base: string): Record<string, string> {
  const key = KEYS.get(base);
  return key ? { authorization: `Bearer ${key}` } : {};
}

/**
 * One JSON request with the producer's admin key (or `key`: another key, or null for none);
 * the reply parsed when it is JSON.
 */
export async function call(
  base: string,
  method: string,
  path: string,
  body?: unknown,
  options: { key?: string | null } = {},
): Promise<JsonResponse> {
  const key = options.key === undefined ? KEYS.get(base) : options.key;
  const response = await fetch(`${base}${path}`, {
    method,
    headers: {
      ...(body === undefined ? {} : { "content-type": "application/json" }),
      ...(key ? { authorization: `Bearer ${key}` } : {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  const json = (response.headers.get("content-type") ?? "").includes("json");
  return { status: response.status, body: json ? JSON.parse(text) : undefined, text };
}

export const CHANNEL_BASE = {
  luxsciUser: "demo",
  luxsciToken: "demo-token",
  luxsciSecret: "demo-secret",
  fromAddress: "news@example.com",
  fromName: "Example News",
};

/** An operation of the producer's OpenAPI document, as the route tests walk them. */
export interface DocumentedOperation {
  method: string;
  /** The document's path, `{id}` style. */
  path: string;
  /** The same as fastify names the route, `:id` style. */
  route: string;
  /** The JSON body's top-level field names (none without a body). */
  fields: string[];
}

type OpenApiPaths = Record<
  string,
  Record<
    string,
    { requestBody?: { content?: Record<string, { schema?: { properties?: object } }> } }
  >
>;

/** Every operation GET /openapi.json describes (it hides itself, so it is not among them). */
export async function documentedOperations(base: string): Promise<DocumentedOperation[]> {
  const { paths } = (await call(base, "GET", "/openapi.json")).body as { paths: OpenApiPaths };
  return Object.entries(paths).flatMap(([path, operations]) =>
    Object.entries(operations).map(([method, operation]) => ({
      method: method.toUpperCase(),
      path,
      route: path.replace(/\{(\w+)\}/g, ":$1"),
      fields: Object.keys(
        operation.requestBody?.content?.["application/json"]?.schema?.properties ?? {},
      ),
    })),
  );
}
