import { Prisma } from "@luxrelay/db";
import type { Logger } from "@luxrelay/logger";
import { ExecutionStateError, NotFoundError, OutboundInputError } from "@luxrelay/outbound";
import type { FastifyError, FastifyReply, FastifyRequest } from "fastify";
import type { z } from "zod";
import { ConflictError } from "../catalog/errors.ts";

// Every error reaches the client as { error: { field?, message } } with one status per class
// (400 input, 404 unknown id, 409 state or uniqueness, 500 the rest). Messages are built from
// field paths and our own words, never from request bodies, so no secret can echo back.

export interface ErrorBody {
  error: { field?: string; message: string };
}

/** A request part that failed its zod schema; `field` is the first issue's dotted path. */
export class RequestValidationError extends Error {
  readonly statusCode = 400;
  /** `message` names the field itself ("fromName: Too big..."), as OutboundInputError's does. */
  constructor(
    readonly field: string | undefined,
    message: string,
  ) {
    super(message);
    this.name = "RequestValidationError";
  }

  static fromZod(error: z.ZodError, part: string): RequestValidationError {
    const issues = error.issues.map((issue) => {
      // An unknown key is reported at its parent; the key itself is the useful field.
      const keys = issue.code === "unrecognized_keys" ? issue.keys : [];
      const path = [...issue.path.map(String), ...keys.slice(0, 1)].join(".");
      return { path, text: path ? `${path}: ${issue.message}` : issue.message };
    });
    const field = issues[0]?.path || (part === "body" ? undefined : part);
    return new RequestValidationError(field, issues.map((issue) => issue.text).join("; "));
  }
}

function classify(error: unknown): { status: number; body: ErrorBody } | null {
  if (error instanceof RequestValidationError) {
    return { status: 400, body: { error: { field: error.field, message: error.message } } };
  }
  if (error instanceof OutboundInputError) {
    return { status: 400, body: { error: { field: error.field, message: error.message } } };
  }
  if (error instanceof NotFoundError) {
    return { status: 404, body: { error: { message: error.message } } };
  }
  if (error instanceof ExecutionStateError) {
    return { status: 409, body: { error: { message: error.message } } };
  }
  if (error instanceof ConflictError) {
    return { status: 409, body: { error: { field: error.field, message: error.message } } };
  }
  if (error instanceof Prisma.PrismaClientKnownRequestError) {
    // A unique constraint lost a race with a concurrent create (names are checked first).
    if (error.code === "P2002") {
      return { status: 409, body: { error: { message: "a record with these values exists" } } };
    }
    if (error.code === "P2025") return { status: 404, body: { error: { message: "not found" } } };
    return null;
  }
  const status = (error as FastifyError).statusCode;
  // fastify's own client errors: malformed JSON, unsupported media type, body too large.
  if (typeof status === "number" && status >= 400 && status < 500) {
    return { status, body: { error: { message: (error as Error).message } } };
  }
  return null;
}

export function createErrorHandler(logger: Logger) {
  return async (error: unknown, request: FastifyRequest, reply: FastifyReply) => {
    const known = classify(error);
    if (known) return reply.code(known.status).send(known.body);
    logger.error(
      { err: error, method: request.method, path: request.url.split("?")[0] },
      "request failed",
    );
    return reply.code(500).send({ error: { message: "internal error" } } satisfies ErrorBody);
  };
}
