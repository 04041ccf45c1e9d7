import nunjucks from "nunjucks";
import { boundedRange, boundFilters } from "./filters.ts";
import type { TPart } from "./template-error.ts";

// The sandboxed nunjucks environments: HTML autoescapes (values become text, never markup,
// unless marked `| safe`); subject and text are plain text, so escaping would show `&amp;`.
// Validation (sandbox.ts) refuses what a template could use to escape; these environments
// are the second wall: nothing to load, and only filters that are pure and deterministic
// (a slot rendered for planning must equal the same slot rendered for the send). The
// filters and range() kept are bounded (filters.ts): a render can't allocate without limit.

/** Built-in filters kept; the rest (`random`: not deterministic) are removed. */
export const ALLOWED_FILTERS: ReadonlySet<string> = new Set([
  "abs",
  "batch",
  "capitalize",
  "center",
  "d",
  "default",
  "dictsort",
  "dump",
  "e",
  "escape",
  "first",
  "float",
  "forceescape",
  "groupby",
  "indent",
  "int",
  "join",
  "last",
  "length",
  "list",
  "lower",
  "nl2br",
  "rejectattr",
  "replace",
  "reverse",
  "round",
  "safe",
  "selectattr",
  "slice",
  "sort",
  "string",
  "striptags",
  "sum",
  "title",
  "trim",
  "truncate",
  "upper",
  "urlencode",
  "urlize",
  "wordcount",
]);

/** `{% include %}` and friends are refused before render; if one ever got through, it loads nothing. */
const NO_TEMPLATES: nunjucks.ILoader = {
  getSource(name: string): never {
    throw new Error(`templates cannot load other templates (asked for ${JSON.stringify(name)})`);
  },
};

function createSandboxEnvironment(autoescape: boolean): nunjucks.Environment {
  // dev: render errors keep nunjucks' TemplateError (with its line) instead of a plain Error.
  const env = new nunjucks.Environment(NO_TEMPLATES, {
    autoescape,
    throwOnUndefined: false,
    dev: true,
  });
  const filters = (env as unknown as { filters: Record<string, unknown> }).filters;
  for (const name of Object.keys(filters)) {
    if (!ALLOWED_FILTERS.has(name)) delete filters[name];
  }
  boundFilters(filters as Record<string, (...args: unknown[]) => unknown>);
  env.addGlobal("range", boundedRange);
  return env;
}

const HTML_ENVIRONMENT = createSandboxEnvironment(true);
const PLAIN_ENVIRONMENT = createSandboxEnvironment(false);

export function environmentFor(part: TPart): nunjucks.Environment {
  return part === "html" ? HTML_ENVIRONMENT : PLAIN_ENVIRONMENT;
}
