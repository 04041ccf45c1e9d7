import type { Socket } from "node:net";
import { breakConnection } from "@luxrelay/sim-kit";
import Fastify, { type FastifyInstance, type FastifyReply } from "fastify";
import { injectedServerError, resourceNotFound, sendError } from "./errors.ts";
import type { FaultAction } from "./faults.ts";
import { API_BASE } from "./options.ts";
import { registerAdminRoutes } from "./routes/admin.ts";
import { registerApiRoutes } from "./routes/api.ts";
import { registerAuthRoute } from "./routes/auth.ts";
import type { SimState } from "./state.ts";

// Two fastify servers, as Responsys has two hosts: the login host (auth and /__sim) and the
// API host login names as `endPoint` (auth refresh and every API function). API paths on the
// login host answer 404 RESOURCE_NOT_FOUND, so a client calling the wrong host finds out. Bodies
// are raw Buffers (form, JSON and the trigger's byte check all read them); faults act in front
// of the routes of both.

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function createApp(state: SimState, hung: Set<Socket>): FastifyInstance {
  const app = Fastify({
    logger: false,
    bodyLimit: state.options.bodyLimitBytes,
    forceCloseConnections: true,
  });
  const afterFaults = new WeakMap<object, FaultAction>();
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("*", { parseAs: "buffer" }, (_request, body, done) => done(null, body));

  app.addHook("onRequest", async (request, reply) => {
    const url = request.raw.url ?? request.url;
    if (!url.startsWith("/rest/")) return;
    const path = url.startsWith(API_BASE) ? url.slice(API_BASE.length) : url;
    const { action, latencyMs } = state.faults.decide(request.method, path.split("?")[0] ?? "");
    if (latencyMs > 0) await sleep(latencyMs);
    switch (action.kind) {
      case "none":
        return;
      case "status":
        if (action.status === 500) return sendError(reply, injectedServerError());
        // A gateway's answer: not Responsys' JSON.
        return reply.code(action.status).type("text/plain").send(`injected ${action.status}`);
      case "reset":
      case "hang":
        return breakConnection(action.kind, reply, request.raw.socket, hung);
      case "resetAfter":
        afterFaults.set(request, action);
    }
  });

  app.addHook("onSend", async (request, _reply, payload) => {
    if (afterFaults.get(request)?.kind === "resetAfter") {
      // The handler ran (a trigger is in the ledger); the client never sees the answer.
      request.raw.socket.destroy();
    }
    return payload;
  });

  app.setNotFoundHandler((request, reply) =>
    sendError(reply, resourceNotFound(`${request.method} ${request.url.split("?")[0]} not found`)),
  );
  app.setErrorHandler((error: Error & { code?: string; statusCode?: number }, request, reply) => {
    if (error.code === "FST_ERR_CTP_BODY_TOO_LARGE") {
      // Contract: over 10 MB the gateway drops the connection, no JSON.
      reply.hijack();
      request.raw.socket.destroy();
      return;
    }
    state.options.logger?.error({ err: error }, "responsys-sim request failed");
    return sendStatus(reply, error);
  });
  return app;
}

function sendStatus(reply: FastifyReply, error: Error & { statusCode?: number }) {
  const status = error.statusCode && error.statusCode < 500 ? error.statusCode : 500;
  return reply.code(status).send({
    type: "",
    title: status === 500 ? "Internal server error" : "Invalid request",
    errorCode: status === 500 ? "UNEXPECTED_EXCEPTION" : "INVALID_REQUEST_CONTENT",
    detail: error.message,
    errorDetails: [],
  });
}

export function buildServers(state: SimState): {
  login: FastifyInstance;
  api: FastifyInstance;
  hung: Set<Socket>;
} {
  const hung = new Set<Socket>();
  const login = createApp(state, hung);
  registerAuthRoute(login, state);
  registerAdminRoutes(login, state);
  const api = createApp(state, hung);
  registerAuthRoute(api, state);
  registerApiRoutes(api, state);
  return { login, api, hung };
}
