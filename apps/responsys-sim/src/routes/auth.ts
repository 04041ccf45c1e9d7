import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { invalidParameter, ResponsysError, sendError } from "../errors.ts";
import { API_BASE } from "../options.ts";
import type { SimState } from "../state.ts";
import type { TokenReply } from "../tokens.ts";
import { rawBody } from "./context.ts";

// `POST /rest/api/v1.3/auth/token` (contract "Authentication"), form-encoded:
// `auth_type=password` with user_name and password, or `auth_type=token` with the live token in
// `Authorization`. Both answer {authToken, issuedAt, endPoint}; endPoint is the API host, on
// another port. Served on both hosts (where Oracle serves the refresh is not confirmed).

const FORM = "application/x-www-form-urlencoded";

function authenticate(state: SimState, request: FastifyRequest): TokenReply {
  const contentType = String(request.headers["content-type"] ?? "")
    .split(";")[0]
    ?.trim();
  if (contentType !== FORM) throw invalidParameter(`Content-Type must be ${FORM}`);
  const query = request.query as Record<string, unknown>;
  if (query.user_name !== undefined || query.password !== undefined) {
    throw invalidParameter("credentials belong in the form body, not the URL");
  }
  const form = new URLSearchParams(rawBody(request).toString("utf8"));
  const authType = form.get("auth_type");
  if (authType === "password") {
    const user = form.get("user_name") ?? "";
    const password = form.get("password") ?? "";
    if (!user || !password) throw invalidParameter("user_name and password are required");
    state.limiter.take("login", `user:${user}`);
    const account = state.tokens.login(user, password);
    return { ...state.tokens.issue(account), endPoint: state.endPoint };
  }
  if (authType === "token") {
    const account = state.tokens.verify(request.headers.authorization);
    state.limiter.take("refreshToken", String(account.index));
    return { ...state.tokens.issue(account), endPoint: state.endPoint };
  }
  // Certificate login (auth_type=server/client) exists at Oracle; not simulated.
  throw invalidParameter("auth_type must be password or token");
}

export function registerAuthRoute(app: FastifyInstance, state: SimState): void {
  app.post(`${API_BASE}/auth/token`, async (request, reply: FastifyReply) => {
    try {
      return reply.send(authenticate(state, request));
    } catch (error) {
      if (error instanceof ResponsysError) return sendError(reply, error);
      throw error;
    }
  });
}
