// Errors of the outbound services that callers (API, CLI, workers) tell apart.

/** Input that can't be used: names the field (and the row, for audience data). */
export class OutboundInputError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
    this.name = "OutboundInputError";
  }
}

/** An id that names nothing. */
export class NotFoundError extends Error {
  constructor(
    readonly entity: string,
    readonly id: string | number,
  ) {
    super(`${entity} ${id} not found`);
    this.name = "NotFoundError";
  }
}

/** An operation the execution's current status doesn't allow (resume a completed one...). */
export class ExecutionStateError extends Error {
  constructor(
    readonly executionId: number,
    readonly status: string,
    action: string,
  ) {
    super(`execution ${executionId} is ${status}: cannot ${action}`);
    this.name = "ExecutionStateError";
  }
}
