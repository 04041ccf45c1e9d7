import { TemplateError, type TPart } from "./template-error.ts";

/** nunjucks' render error (the environments run with `dev`, so it is not flattened). */
interface TNunjucksRenderError extends Error {
  lineno?: number;
  cause?: Error;
}

/**
 * A render failure (a filter given a value it cannot take, a call of something undefined)
 * as a TemplateError naming the part. Compiled code tracks 0-based node lines.
 */
export function toRenderError(part: TPart, error: unknown): Error {
  if (!(error instanceof Error)) return new TemplateError(part, null, String(error));
  const failure = error as TNunjucksRenderError;
  const line = typeof failure.lineno === "number" ? failure.lineno + 1 : null;
  return new TemplateError(part, line, failure.cause?.message ?? failure.message);
}
