import { setTimeout as sleep } from "node:timers/promises";
import type { FastifyInstance } from "fastify";
import type { RouteDeps } from "./context.ts";

/** BullMQ's connection retries forever while Redis is down; a health check must not. */
const HEALTH_CHECK_TIMEOUT_MS = 2000;

async function answers(check: Promise<unknown>): Promise<"ok" | "unreachable"> {
  const timeout = sleep(HEALTH_CHECK_TIMEOUT_MS, "unreachable" as const, { ref: false });
  return Promise.race([check.then(() => "ok" as const), timeout]).catch(
    () => "unreachable" as const,
  );
}

export async function systemRoutes(app: FastifyInstance, { outbound }: RouteDeps) {
  app.get(
    "/healthz",
    { schema: { tags: ["system"], summary: "Liveness: PostgreSQL and Redis answer" } },
    async (_request, reply) => {
      const [postgres, redis] = await Promise.all([
        answers(outbound.pool.query("SELECT 1")),
        answers(outbound.queues.plan.getJobCounts("wait")),
      ]);
      const ok = postgres === "ok" && redis === "ok";
      return reply.code(ok ? 200 : 503).send({ ok, postgres, redis });
    },
  );
  app.get("/openapi.json", { schema: { hide: true } }, async () => app.swagger());
}
