export type TPart = "subject" | "html" | "text";

/**
 * A template that cannot be used, found when a variant is validated (or, for a value that
 * breaks a filter, when a recipient is rendered). `part` and `line` point the author at the
 * place to fix; `line` is 1-based, null when nunjucks could not tell.
 */
export class TemplateError extends Error {
  override readonly name = "TemplateError";
  readonly part: TPart;
  readonly line: number | null;
  /** The problem alone, without the part and line that `message` starts with. */
  readonly reason: string;

  constructor(part: TPart, line: number | null, reason: string) {
    super(`${part}${line === null ? "" : ` line ${line}`}: ${reason}`);
    this.part = part;
    this.line = line;
    this.reason = reason;
  }
}
