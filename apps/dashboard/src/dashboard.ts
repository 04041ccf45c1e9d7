import { createBullBoard } from "@bull-board/api";
import { FastifyAdapter } from "@bull-board/fastify";
import type { Logger } from "@luxrelay/logger";
import type { Queue } from "bullmq";
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from "fastify";
import { RedactingBullMQAdapter } from "./adapter.ts";
import { requireBasicAuth } from "./auth.ts";

export interface DashboardOptions {
  /** One BullMQ queue per luxrelay queue, under the deployment's prefix. */
  queues: Queue[];
  user: string;
  password: string;
  /** Hide and refuse every action that changes a queue or a job (retry, clean, pause...). */
  readOnly: boolean;
  logger?: Logger;
  /** Where the board is mounted; "/" by default. */
  basePath?: string;
}

export const HEALTH_PATH = "/healthz";
type BoardServerAdapter = Parameters<typeof createBullBoard>[0]["serverAdapter"];

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/** Normalises a mount path to "/" or "/a/b" (leading slash, no trailing slash). */
export function normalizeBasePath(path: string): string {
  const trimmed = path.replace(/^\/+|\/+$/g, "");
  return trimmed ? `/${trimmed}` : "/";
}

/**
 * The dashboard as a fastify app, not yet listening: bull-board for the given queues, with
 * HTTP Basic authentication on every route (pages, static assets, JSON API) except the health
 * check, and job payloads formatted so ids show and secrets and recipient lists don't.
 */
export async function buildDashboard(options: DashboardOptions): Promise<FastifyInstance> {
  const basePath = normalizeBasePath(options.basePath ?? "/");
  const app = Fastify({
    // pino's Logger is a FastifyBaseLogger; the cast keeps the app's type the default one.
    loggerInstance: options.logger as FastifyBaseLogger | undefined,
    // fastify's own request lines lose their req/res fields in our redacting logger; one line
    // per response below carries what an operator needs instead.
    logController: new LogController({ disableRequestLogging: true }),
  });
  app.addHook("onResponse", async (request, reply) => {
    request.log.debug(
      {
        method: request.method,
        path: request.url.split("?")[0],
        statusCode: reply.statusCode,
        durationMs: Math.round(reply.elapsedTime),
      },
      "request",
    );
  });

  // Registered before bull-board so the hooks run for every route it adds, static files
  // and 404s included.
  app.addHook(
    "onRequest",
    requireBasicAuth(
      { user: options.user, password: options.password },
      (url) => url === HEALTH_PATH,
    ),
  );
  if (options.readOnly) {
    // bull-board refuses actions on read-only queues itself (405); this also covers any
    // mutating route a future bull-board adds without that check.
    app.addHook("onRequest", async (request, reply) => {
      if (SAFE_METHODS.has(request.method)) return;
      await reply.code(405).send({ error: "the dashboard is read-only" });
    });
  }

  app.get(HEALTH_PATH, async () => ({ ok: true }));

  const serverAdapter = new FastifyAdapter();
  serverAdapter.setBasePath(basePath);
  createBullBoard({
    queues: options.queues.map(
      (queue) => new RedactingBullMQAdapter(queue, { readOnly: options.readOnly }),
    ),
    // @bull-board/fastify 9.10.1 is typed against its own nested @bull-board/api 9.10.1, whose
    // BaseAdapter has the same shape but a separate declaration (private fields), so TS sees two
    // types. At run time the adapter never loads @bull-board/api; deduping the versions in the
    // lockfile makes this cast unnecessary.
    serverAdapter: serverAdapter as unknown as BoardServerAdapter,
    options: { uiConfig: { boardTitle: "luxrelay" } },
  });
  await app.register(serverAdapter.registerPlugin(), basePath === "/" ? {} : { prefix: basePath });
  return app;
}
