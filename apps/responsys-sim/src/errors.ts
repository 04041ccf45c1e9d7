import type { FastifyReply } from "fastify";

// Responsys' error body (contract "Errors and limits"):
// `{"type":"","title":...,"errorCode":...,"detail":...,"errorDetails":[]}`. Every refusal of
// the simulator's API hosts answers it; handlers throw ResponsysError and the route wrapper
// turns it into a reply.

export interface ErrorBody {
  type: string;
  title: string;
  errorCode: string;
  detail: string;
  errorDetails: unknown[];
}

export class ResponsysError extends Error {
  constructor(
    readonly status: number,
    readonly errorCode: string,
    readonly title: string,
    readonly detail: string,
  ) {
    super(`${errorCode}: ${detail}`);
  }

  body(): ErrorBody {
    return {
      type: "",
      title: this.title,
      errorCode: this.errorCode,
      detail: this.detail,
      errorDetails: [],
    };
  }
}

export function sendError(reply: FastifyReply, error: ResponsysError) {
  return reply.code(error.status).header("content-type", "application/json").send(error.body());
}

// The documented errors. Titles and details the contract quotes are used as quoted; the
// others (marked) are the simulator's wording: match on errorCode, never on the text.

/** Contract: 401, title "Not a valid token", detail "Not a valid authentication token". */
export const invalidToken = (status: 401 | 500) =>
  new ResponsysError(
    status,
    "INVALID_TOKEN",
    "Not a valid token",
    "Not a valid authentication token",
  );

/** Contract: 400 INVALID_USER_NAME_PASSWORD (title and detail: the simulator's). */
export const invalidUserNamePassword = () =>
  new ResponsysError(
    400,
    "INVALID_USER_NAME_PASSWORD",
    "Authentication failed",
    "Invalid user name or password",
  );

/** Contract: title "Invalid request parameters". */
export const invalidParameter = (detail: string) =>
  new ResponsysError(400, "INVALID_PARAMETER", "Invalid request parameters", detail);

/** Contract: "Request body is empty or invalid" (also unescaped non-ASCII in a body). */
export const invalidRequestContent = () =>
  new ResponsysError(
    400,
    "INVALID_REQUEST_CONTENT",
    "Invalid request content",
    "Request body is empty or invalid",
  );

export const resourceNotFound = (detail: string) =>
  new ResponsysError(404, "RESOURCE_NOT_FOUND", "Resource not found", detail);

/** Over 200 records or recipients in one call (code: the async merge's, see README). */
export const recipientLimitExceeded = (limit: number) =>
  new ResponsysError(
    400,
    "RECIPIENT_LIMIT_EXCEEDED",
    "Recipient limit exceeded",
    `At most ${limit} records are allowed in one call`,
  );

export const apiLimitExceeded = (status: 401 | 429, fn: string, limit: number) =>
  new ResponsysError(
    status,
    "API_LIMIT_EXCEEDED",
    "API limit exceeded",
    `Throttled: ${fn} allows ${limit} calls per minute`,
  );

/** An injected 500 (fault); the simulator's wording. */
export const injectedServerError = () =>
  new ResponsysError(500, "UNEXPECTED_EXCEPTION", "Internal server error", "injected 500");
