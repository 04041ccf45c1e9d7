import type { FastifyInstance } from "fastify";
import { AuthError, type AuthRequest } from "../auth.ts";
import { BASE_PATH } from "../options.ts";
import type { SimState } from "../state.ts";
import { fail } from "./context.ts";

// Seed 000 outbound step 1: POST /auth answers `{"auth": ..., "success": 1}`.
export function registerAuthRoute(app: FastifyInstance, state: SimState): void {
  app.post(`${BASE_PATH}/auth`, async (request, reply) => {
    let body: AuthRequest;
    try {
      body = JSON.parse(
        (request.body as Buffer | undefined)?.toString("utf8") ?? "",
      ) as AuthRequest;
    } catch {
      return fail(reply, 400, "body is not valid JSON");
    }
    if (typeof body !== "object" || body === null)
      return fail(reply, 400, "body must be an object");
    try {
      const account = state.auth.authenticate(body);
      return reply.send({ auth: state.auth.issue(account), success: 1 });
    } catch (error) {
      if (error instanceof AuthError) return fail(reply, 401, error.message);
      throw error;
    }
  });
}
