import { RenderLimitError } from "./limits.ts";
import { TemplateError, type TPart } from "./template-error.ts";

/** nunjucks' render error (the environments run with `dev`, so it is not flattened). */
interface TNunjucksRenderError extends Error {
  lineno?: number;
  cause?: Error;
}

/**
 * A render failure (a filter given a value it cannot take, a call of something undefined, a
 * limit passed) as a TemplateError naming the part. Compiled code tracks 0-based node lines.
 */
export function toRenderError(part: TPart, error: unknown): Error {
  if (!(error instanceof Error)) return new TemplateError(part, null, String(error));
  const failure = error as TNunjucksRenderError;
  const line = typeof failure.lineno === "number" ? failure.lineno + 1 : null;
  const cause = failure.cause ?? failure;
  // RangeError: a call stack or a string past the engine's own limits (endless recursion).
  const limit = cause instanceof RenderLimitError || cause instanceof RangeError;
  return new TemplateError(part, line, cause.message, limit);
}
