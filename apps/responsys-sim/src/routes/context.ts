import type { FastifyReply, FastifyRequest } from "fastify";
import { invalidRequestContent, ResponsysError, sendError } from "../errors.ts";
import type { ApiFunction, ResolvedAccount } from "../options.ts";
import type { SimState } from "../state.ts";

// The shared shape of every token call: the raw token in `Authorization` (INVALID_TOKEN when
// missing, unknown or expired), then the function's per-minute limit, then the handler; a
// ResponsysError from any step answers the contract's error body.

export interface CallContext {
  account: ResolvedAccount;
  params: Record<string, string>;
  /** The exact body bytes (the trigger checks them for unescaped non-ASCII). */
  raw: Buffer;
  /** Parsed JSON body; INVALID_REQUEST_CONTENT when empty or not JSON. */
  json(): unknown;
}

export function rawBody(request: FastifyRequest): Buffer {
  return Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
}

function parseJson(raw: Buffer): unknown {
  if (raw.length === 0) throw invalidRequestContent();
  try {
    return JSON.parse(raw.toString("utf8"));
  } catch {
    throw invalidRequestContent();
  }
}

export function tokenCall(
  state: SimState,
  /** The limited function, or null for a call no limit counts. */
  fn: ApiFunction | null,
  handler: (context: CallContext) => unknown,
) {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    try {
      const account = state.tokens.verify(request.headers.authorization);
      if (fn) state.limiter.take(fn, String(account.index));
      const raw = rawBody(request);
      const data = handler({
        account,
        params: request.params as Record<string, string>,
        raw,
        json: () => parseJson(raw),
      });
      return reply.header("content-type", "application/json").send(JSON.stringify(data));
    } catch (error) {
      if (error instanceof ResponsysError) return sendError(reply, error);
      throw error;
    }
  };
}
