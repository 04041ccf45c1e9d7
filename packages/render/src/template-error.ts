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
  /**
   * The render went over a limit (time, steps, size, a subject that can't be a header line):
   * unlike a value a filter can't take, missing sample data can't be the cause, so a trial
   * render that hits one refuses the template.
   */
  readonly limit: boolean;

  constructor(part: TPart, line: number | null, reason: string, limit = false) {
    super(`${part}${line === null ? "" : ` line ${line}`}: ${reason}`);
    this.part = part;
    this.line = line;
    this.reason = reason;
    this.limit = limit;
  }
}
