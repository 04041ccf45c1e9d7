import type { Socket } from "node:net";
import { breakConnection } from "@luxrelay/sim-kit";
import Fastify, { type FastifyInstance, type FastifyRequest } from "fastify";
import type { FaultAction } from "./faults.ts";
import { BASE_PATH } from "./options.ts";
import { registerAccountRoutes } from "./routes/account.ts";
import { registerAdminRoutes } from "./routes/admin.ts";
import { registerAuthRoute } from "./routes/auth.ts";
import { fail } from "./routes/context.ts";
import { registerReportRoutes } from "./routes/reports.ts";
import { registerSendRoute } from "./routes/send.ts";
import type { SimState } from "./state.ts";

// The HTTP server: fastify with bodies kept as raw Buffers (the cookie signature covers the
// exact body bytes, so nothing may re-serialise them), fault injection in front of the API
// routes, JSON errors in the contract's shape everywhere, and a Date header from the
// simulated clock (luxrelay reads LuxSci's time from it rather than trusting its own host's).

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function buildServer(state: SimState): { app: FastifyInstance; hung: Set<Socket> } {
  const app = Fastify({
    logger: false,
    bodyLimit: state.options.bodyLimitBytes,
    forceCloseConnections: true,
  });
  const hung = new Set<Socket>();
  const afterFaults = new WeakMap<FastifyRequest, FaultAction>();

  app.removeAllContentTypeParsers();
  app.addContentTypeParser("*", { parseAs: "buffer" }, (_request, body, done) => done(null, body));

  app.addHook("onRequest", async (request, reply) => {
    const url = request.raw.url ?? request.url;
    if (!url.startsWith(BASE_PATH)) return;
    const path = url.slice(BASE_PATH.length).split("?")[0] as string;
    const { action, latencyMs } = state.faults.decide(request.method, path, Date.now());
    if (latencyMs > 0) await sleep(latencyMs);
    switch (action.kind) {
      case "none":
        return;
      case "status":
        if (action.retryAfterSeconds !== undefined) {
          reply.header("retry-after", String(action.retryAfterSeconds));
        }
        return fail(reply, action.status, action.error);
      case "reset":
      case "hang":
        return breakConnection(action.kind, reply, request.raw.socket, hung);
      default:
        afterFaults.set(request, action);
    }
  });

  // Held after the body is read, so the call can still be handled once the client has closed
  // the socket: fastify skips a handler only when the reply has ended, not on client close.
  app.addHook("preHandler", async (request) => {
    const after = afterFaults.get(request);
    if (after?.kind === "acceptLate") await sleep(after.delayMs);
  });

  app.addHook("onSend", async (request, reply, payload) => {
    // Replaces Node's real-time Date: tests run the simulated clock offset from the host's.
    reply.header("date", new Date(state.clock.nowMs()).toUTCString());
    const after = afterFaults.get(request)?.kind;
    if (after === "malformed") {
      // A truncated JSON document with a success status, as a proxy cutting a reply would.
      reply.code(200).header("content-type", "application/json");
      return '{"success": 1, "data": [';
    }
    if (after === "resetAfter") {
      // The handler ran (a send is in the ledger); the client never sees the answer.
      request.raw.socket.destroy();
    }
    return payload;
  });

  registerAuthRoute(app, state);
  registerAccountRoutes(app, state);
  registerSendRoute(app, state);
  registerReportRoutes(app, state);
  registerAdminRoutes(app, state);

  app.setNotFoundHandler((request, reply) =>
    fail(reply, 404, `unknown path ${request.method} ${request.url.split("?")[0]}`),
  );
  app.setErrorHandler((error: Error & { statusCode?: number }, _request, reply) => {
    const status = error.statusCode && error.statusCode < 500 ? error.statusCode : 500;
    state.options.logger?.error({ err: error }, "simulator request failed");
    return fail(reply, status, error.message);
  });
  return { app, hung };
}
