import type { FastifyReply, FastifyRequest } from "fastify";
import { AuthError } from "../auth.ts";
import type { ResolvedAccount } from "../options.ts";
import type { SimState } from "../state.ts";
import { RequestError } from "../validate.ts";

// The shared shape of every user-scope call: check the cookie for real, check the path's
// user, run the handler, answer `{success: 1, auth: <fresh>, data}` (contract: every reply
// after auth carries a new auth) or `{success: 0, error, error_message}` with the contract's
// status.

export interface CallContext {
  account: ResolvedAccount;
  request: FastifyRequest;
  query: Record<string, string | undefined>;
  params: Record<string, string>;
  /** Parsed JSON body (POST/PUT). */
  json(): unknown;
}

/** What a handler returns: `data`, or undefined for replies without data (DELETE). */
export type Handler = (context: CallContext) => unknown;

/**
 * A failure reply. The message goes in `error` and again in `error_message`, the field LuxSci's
 * public PHP client and its C#/VB samples read: a client written to either finds it.
 */
export function fail(reply: FastifyReply, status: number, error: string, data?: unknown) {
  const body = { success: 0, error, error_message: error };
  return reply.code(status).send(data === undefined ? body : { ...body, data });
}

function parseJson(body: unknown): unknown {
  if (!Buffer.isBuffer(body) || body.length === 0)
    throw new RequestError("a JSON body is required");
  try {
    return JSON.parse(body.toString("utf8"));
  } catch {
    throw new RequestError("body is not valid JSON");
  }
}

export function userCall(state: SimState, handler: Handler) {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    const body = Buffer.isBuffer(request.body) ? request.body : undefined;
    let account: ResolvedAccount;
    try {
      account = state.auth.verifyCookie(
        request.headers.cookie,
        request.method,
        request.raw.url ?? request.url,
        body,
      );
    } catch (error) {
      if (error instanceof AuthError) return fail(reply, 401, error.message);
      throw error;
    }
    const params = request.params as Record<string, string>;
    if (params.user !== undefined && params.user !== account.user) {
      return fail(reply, 403, `user "${params.user}" is not the authenticated user`);
    }
    try {
      const data = await handler({
        account,
        request,
        query: request.query as Record<string, string | undefined>,
        params,
        json: () => parseJson(request.body),
      });
      const auth = state.auth.issue(account);
      return reply.send(data === undefined ? { auth, success: 1 } : { auth, success: 1, data });
    } catch (error) {
      if (error instanceof RequestError)
        return fail(reply, error.status, error.message, error.data);
      throw error;
    }
  };
}
