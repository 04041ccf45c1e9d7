import swagger from "@fastify/swagger";
import type { Config } from "@luxrelay/config";
import type { Logger } from "@luxrelay/logger";
import type { OutboundDeps } from "@luxrelay/outbound";
import type { Queue } from "bullmq";
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
  LogController,
} from "fastify";
import type { CatalogDeps } from "./catalog/context.ts";
import { useApiKeys } from "./http/auth.ts";
import { createErrorHandler, type ErrorBody } from "./http/errors.ts";
import { useZodValidation, zodSwaggerTransform } from "./http/zod.ts";
import { audienceRoutes } from "./routes/audiences.ts";
import { campaignRoutes } from "./routes/campaigns.ts";
import { channelRoutes } from "./routes/channels.ts";
import type { RouteDeps } from "./routes/context.ts";
import { executionRoutes } from "./routes/executions.ts";
import { realtimeRoutes } from "./routes/realtime.ts";
import { syncRoutes } from "./routes/sync.ts";
import { systemRoutes } from "./routes/system.ts";

/** JSON bodies: a variant's HTML can be a few megabytes; audiences have their own limit. */
const JSON_BODY_LIMIT_BYTES = 16 * 1024 * 1024;

/**
 * The producer's HTTP API as a fastify app, not yet listening: channels, campaigns, offers,
 * audiences and executions, each route one call into the catalog or an outbound service.
 */
export interface ProducerOptions {
  /** The reports queue, for sync on demand (POST /channels/{id}/sync). */
  reportsQueue?: Queue;
  /** The realtime queue (POST /realtime/{offer}). */
  realtimeQueue?: Queue;
}

export async function buildProducerApi(
  deps: OutboundDeps,
  config: Config,
  logger: Logger,
  options: ProducerOptions = {},
): Promise<FastifyInstance> {
  const app = Fastify({
    // pino's Logger is a FastifyBaseLogger; the cast keeps the app's type the default one.
    loggerInstance: logger as unknown as FastifyBaseLogger,
    // fastify's request lines would log URLs and headers as they come; one line per response
    // below carries what an operator needs, and request bodies (secrets) are never logged.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: JSON_BODY_LIMIT_BYTES,
    // Errors fastify raises before routing (a path parameter over 100 characters, a bad
    // %-escape) keep the API's one error shape, and don't echo the URL back.
    frameworkErrors: (error, _request, reply: FastifyReply) => {
      const status = error.statusCode === 414 ? 414 : 400;
      const message =
        status === 414
          ? "the URL is too long: a path parameter is over 100 characters"
          : "the URL is not valid (a malformed %-escape?)";
      reply.code(status).send({ error: { message } } satisfies ErrorBody);
    },
  });
  app.addHook("onResponse", async (request, reply) => {
    request.log.debug(
      {
        method: request.method,
        path: request.url.split("?")[0],
        statusCode: reply.statusCode,
        durationMs: Math.round(reply.elapsedTime),
        apiKeyName: request.apiKey?.name,
      },
      "request",
    );
  });
  useApiKeys(app, deps.pool);
  useZodValidation(app);
  app.setErrorHandler(createErrorHandler(logger));
  app.setNotFoundHandler(async (request, reply) =>
    reply
      .code(404)
      .send({ error: { message: `no route ${request.method} ${request.url.split("?")[0]}` } }),
  );

  await app.register(swagger, {
    openapi: {
      info: {
        title: "luxrelay producer",
        description: "Channels, campaigns, audiences and executions of luxrelay (LuxSci API v2).",
        version: "0.1.0",
      },
      components: {
        securitySchemes: {
          apiKey: {
            type: "http",
            scheme: "bearer",
            description: "An API key (npm run -s apikey -- create); scopes read < send < admin",
          },
        },
      },
      security: [{ apiKey: [] }],
    },
    transform: zodSwaggerTransform,
  });

  const catalog: CatalogDeps = {
    prisma: deps.prisma,
    secretKey: config.secretKey,
    previousSecretKeys: config.previousSecretKeys,
    allowHttpApiUrl: config.luxsci.allowHttp,
    stateDir: config.sync.stateDir,
    defaultApiUrl: config.luxsci.apiUrl,
    defaultSyncIntervalSeconds: config.sync.intervalSeconds,
    defaultApiRetries: config.luxsci.retries,
  };
  const routeDeps: RouteDeps = { outbound: deps, catalog };
  for (const routes of [
    systemRoutes,
    channelRoutes,
    campaignRoutes,
    audienceRoutes,
    executionRoutes,
    syncRoutes(options.reportsQueue),
    realtimeRoutes(options.realtimeQueue),
  ]) {
    await app.register(routes, routeDeps);
  }
  return app;
}
