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

/**
 * A job found, just before its LuxSci call, that its queue lock had lapsed: the queue may
 * have handed the job out again, so this run sends nothing and leaves the work to that one.
 */
export class LockLostError extends Error {
  constructor(readonly jobKey: string) {
    super(`${jobKey}: the job's lock lapsed before its send; the run that holds it now sends`);
    this.name = "LockLostError";
  }
}

/**
 * Not now: the job should come back after `delayMs` without using an attempt (an unknown send
 * outcome waiting for LuxSci's sent report, a channel held after a 429). Workers turn it into
 * a delayed job.
 */
export class RetryLaterError extends Error {
  constructor(
    readonly delayMs: number,
    reason: string,
  ) {
    super(reason);
    this.name = "RetryLaterError";
  }
}
