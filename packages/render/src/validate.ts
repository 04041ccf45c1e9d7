import { parsePart } from "./parse-part.ts";
import type { TContentSource } from "./types.ts";

/** Throws TemplateError (part, line) for a syntax error or anything the sandbox refuses. */
export function validateContent(source: TContentSource): void {
  parsePart("subject", source.subject);
  if (source.html !== null) parsePart("html", source.html);
  if (source.text !== null) parsePart("text", source.text);
}
