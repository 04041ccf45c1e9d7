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
