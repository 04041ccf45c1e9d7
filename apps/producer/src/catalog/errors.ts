/** A create or rename that would break a uniqueness rule (a channel or campaign name...). */
export class ConflictError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
    this.name = "ConflictError";
  }
}

/** An audience upload over AUDIENCE_MAX_BYTES: 413, and nothing of it is kept. */
export class AudienceTooLargeError extends Error {
  readonly statusCode = 413;
  constructor(maxBytes: number) {
    super(`the audience is larger than ${maxBytes} bytes (AUDIENCE_MAX_BYTES)`);
    this.name = "AudienceTooLargeError";
  }
}
