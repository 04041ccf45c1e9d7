import { ALLOWED_FILTERS } from "./environment.ts";
import { childrenOf, isNode, isNodeList, type TNode } from "./nunjucks-internals.ts";
import { TemplateError, type TPart } from "./template-error.ts";

// The sandbox, checked on the parsed tree before a template is ever compiled: nunjucks
// compiles to JavaScript and looks members up with plain `obj[key]`, so a template that can
// name `constructor` reaches `Function` and runs code (`"".constructor.constructor(...)`).
// Refusing those names, computed keys that could spell them, and every tag that reads
// another template leaves a template only its data and the allowed filters. Methods and
// patterns whose cost the render's limits can't bound (one native call) are refused too.

const WHY = "templates have no access to constructors, prototypes, globals or the process";

/** Names refused anywhere: as a variable, a member, a string key or a filter argument. */
const FORBIDDEN_NAMES: ReadonlySet<string> = new Set([
  "constructor",
  "prototype",
  "process",
  "global",
  "globalThis",
  "require",
  "module",
  "exports",
  "eval",
  "Function",
]);

/** Members of functions that lead back to callers; `caller()` itself stays usable in `{% call %}`. */
const FORBIDDEN_MEMBERS: ReadonlySet<string> = new Set(["caller", "callee", "arguments"]);

/**
 * JavaScript methods a value reaches by name (nunjucks calls `x.repeat(...)` on the value)
 * that could take a worker down: they multiply their input in one native call (repeat,
 * padStart, padEnd, join, concat, replace and replaceAll through `$'`), compile a string
 * into a regular expression that can backtrack for minutes (match, matchAll, search), or
 * pass a list as arguments (apply, call, bind). The bounded filters do the same work.
 */
const UNBOUNDED_METHODS: Readonly<Record<string, string>> = {
  repeat: "use the center filter, or a loop",
  padStart: "use the center filter",
  padEnd: "use the center filter",
  join: "use the join filter",
  concat: "use ~",
  replace: "use the replace filter",
  replaceAll: "use the replace filter",
  match: "use `in`",
  matchAll: "use `in`",
  search: "use `in`",
  apply: "call the function directly",
  call: "call the function directly",
  bind: "call the function directly",
};

const REFUSED_TAGS: Readonly<Record<string, string>> = {
  Include: "{% include %} is not allowed: a template cannot load other templates",
  Import: "{% import %} is not allowed: a template cannot load other templates",
  FromImport: "{% from ... import %} is not allowed: a template cannot load other templates",
  Extends: "{% extends %} is not allowed: a template cannot load other templates",
  Block: "{% block %} is not allowed: there is no template inheritance",
  Super: "super() is not allowed: there is no template inheritance",
  CallExtension: "extension tags are not allowed",
  CallExtensionAsync: "extension tags are not allowed",
  FilterAsync: "asynchronous filters are not allowed",
  IfAsync: "{% ifAsync %} is not allowed: use {% if %}",
  AsyncEach: "{% asyncEach %} is not allowed: use {% for %}",
  AsyncAll: "{% asyncAll %} is not allowed: use {% for %}",
};

function isForbiddenName(name: string): boolean {
  // `__proto__`, `__defineGetter__`, `__lookupSetter__`... all start with two underscores.
  return FORBIDDEN_NAMES.has(name) || name.startsWith("__");
}

function refuse(part: TPart, node: TNode, reason: string): never {
  throw new TemplateError(part, node.lineno + 1, reason);
}

function checkNode(part: TPart, node: TNode): void {
  const refused = REFUSED_TAGS[node.typename];
  if (refused !== undefined) refuse(part, node, refused);
  switch (node.typename) {
    case "Symbol": {
      const name = String(node.value);
      if (isForbiddenName(name)) refuse(part, node, `\`${name}\` is not allowed: ${WHY}`);
      break;
    }
    case "Literal": {
      // A string literal can reach a member through a filter's attribute argument
      // (`items | sort(false, false, "constructor")`) or a dict key.
      if (typeof node.value === "string" && isForbiddenName(node.value)) {
        refuse(part, node, `"${node.value}" is not allowed: ${WHY}`);
      }
      // `r/(a+)+$/`: a pattern can backtrack for minutes in one native call, out of reach of
      // the render's time budget.
      if (node.value instanceof RegExp) {
        refuse(part, node, "regular expressions (r/.../) are not allowed: use the replace filter");
      }
      break;
    }
    case "LookupVal": {
      const key = node.val;
      const literal = isNode(key) && key.typename === "Literal" ? key.value : undefined;
      if (typeof literal === "number") break;
      if (typeof literal !== "string") {
        refuse(
          part,
          node,
          "computed member lookups (x[expression]) are not allowed: use x.name or x[0]",
        );
      }
      if (isForbiddenName(literal) || FORBIDDEN_MEMBERS.has(literal)) {
        refuse(part, node, `\`.${literal}\` is not allowed: ${WHY}`);
      }
      const instead = Object.hasOwn(UNBOUNDED_METHODS, literal) ? UNBOUNDED_METHODS[literal] : null;
      if (instead) {
        refuse(part, node, `\`.${literal}\` is not allowed: its cost has no bound (${instead})`);
      }
      break;
    }
    case "Filter": {
      const name = isNode(node.name) ? String(node.name.value) : "";
      if (!ALLOWED_FILTERS.has(name)) refuse(part, node, `unknown filter \`${name}\``);
      break;
    }
  }
}

function walk(part: TPart, node: TNode): void {
  checkNode(part, node);
  if (isNodeList(node)) {
    for (const child of node.children) walk(part, child);
    return;
  }
  for (const value of childrenOf(node)) walk(part, value);
}

/** Throws TemplateError at the first construct a template may not use. */
export function assertSandboxed(part: TPart, root: TNode): void {
  walk(part, root);
}
