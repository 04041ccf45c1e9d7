import {
  parseTemplate,
  type TNodeList,
  type TParseError,
  transformTree,
} from "./nunjucks-internals.ts";
import { assertSandboxed } from "./sandbox.ts";
import { TemplateError, type TPart } from "./template-error.ts";

/** Lines in `source`: where nunjucks' "unexpected end of file" happens. */
function lastLine(source: string): number {
  let lines = 1;
  for (let i = source.indexOf("\n"); i !== -1; i = source.indexOf("\n", i + 1)) lines++;
  return lines;
}

/**
 * Parses one part and checks it against the sandbox; the tree returned is the one nunjucks'
 * own compile would generate code from. Syntax errors become TemplateError with the part.
 */
export function parsePart(part: TPart, source: string): TNodeList {
  let root: TNodeList;
  try {
    root = parseTemplate(source);
  } catch (error) {
    const parseError = error as TParseError;
    const line = typeof parseError.lineno === "number" ? parseError.lineno : lastLine(source);
    throw new TemplateError(part, line, parseError.message);
  }
  assertSandboxed(part, root);
  return transformTree(root);
}
