import nunjucks from "nunjucks";
import { isText, RenderLimitError, textLength } from "./limits.ts";
import { METER, overValue } from "./meter.ts";

// The built-in filters and range(), bounded (issue 14). Each filter call is a step of the
// recipient's render; arguments and results are measured (METER.bound: text, and lists and
// dictionaries, which sort or sum may flatten in one native call); the filters whose result can
// be far larger than their input (center, indent, replace, join, dump, string) have it
// estimated before they run, and batch/slice their item count, so `'a' | center(100000000)`
// is refused before it allocates. trim and striptags are replaced by linear versions with
// the same results: nunjucks' own use regular expressions that backtrack quadratically
// (`'a' ~ 50,000 spaces ~ 'a' | trim` takes 2 s), and their input is recipient data.

type TFilter = (this: unknown, ...args: unknown[]) => unknown;

const runtime = nunjucks.runtime as unknown as {
  copySafeness(dest: unknown, target: string): unknown;
};

function textOf(value: unknown): string {
  return isText(value) ? value.toString() : "";
}

/** Estimated characters of a filter's result, from its arguments, before it runs. */
type TEstimate = (cap: number, ...args: unknown[]) => number;

const RESULT_ESTIMATES: Readonly<Record<string, TEstimate>> = {
  center: (_cap, str, width) => Math.max(textOf(str).length, Number(width || 80)),
  indent: (_cap, str, width) => {
    const text = textOf(str);
    let lines = 1;
    for (let i = text.indexOf("\n"); i !== -1; i = text.indexOf("\n", i + 1)) lines++;
    return text.length + lines * Number(width || 4);
  },
  replace: (cap, str, old, replacement, maxCount) => {
    const text = isText(str) || typeof str === "number" ? String(str) : "";
    if (typeof old !== "string" && typeof old !== "number") return text.length;
    const from = String(old);
    const grows = String(replacement).length - from.length;
    if (from === "") return text.length + (text.length + 1) * String(replacement).length;
    const most =
      typeof maxCount === "number" && maxCount >= 0 ? maxCount : Number.POSITIVE_INFINITY;
    let size = text.length;
    let count = 0;
    for (let i = text.indexOf(from); i !== -1 && count < most && size <= cap; count++) {
      size += grows;
      i = text.indexOf(from, i + from.length);
    }
    return size;
  },
  join: (cap, arr, delimiter, attr) => {
    if (!Array.isArray(arr)) return 0;
    const between = String(delimiter || "").length;
    let size = 0;
    for (const item of arr) {
      const value = attr ? (item as Record<string, unknown> | null)?.[String(attr)] : item;
      size += between + textLength(value, cap - size);
      if (size > cap) break;
    }
    return size;
  },
  dump: (cap, value) => textLength(value, cap, true),
  string: (cap, value) => textLength(value, cap),
};

/** The argument that sets how many items a filter makes (batch: only when it fills). */
const ITEM_COUNTS: Readonly<Record<string, (...args: unknown[]) => number>> = {
  batch: (_arr, linecount, fillWith) => (fillWith ? Number(linecount) : 0),
  slice: (_arr, slices) => Number(slices),
};

/**
 * Filters that only count their input's items (keys), so a list or dictionary given them is
 * not walked: `{{ items | length }}` in a loop over items stays linear. Text is measured.
 */
const COUNTING_FILTERS: ReadonlySet<string> = new Set(["length"]);

function bounded(name: string, filter: TFilter): TFilter {
  const estimate = RESULT_ESTIMATES[name];
  const itemCount = ITEM_COUNTS[name];
  const counting = COUNTING_FILTERS.has(name);
  return function boundedFilter(this: unknown, ...args: unknown[]): unknown {
    METER.step(0);
    const { limits } = METER;
    const cap = limits.maxValueChars;
    for (let i = counting && !isText(args[0]) ? 1 : 0; i < args.length; i++) {
      METER.bound(args[i], `${name}: an argument`);
    }
    if (estimate) {
      const size = estimate(cap, ...args);
      if (size > cap) throw overValue(`${name}: the result`, size, limits);
    }
    if (itemCount) {
      const items = itemCount(...args);
      if (items > limits.maxRangeItems) {
        throw new RenderLimitError(
          `${name}: ${items} items is over the limit of ${limits.maxRangeItems}`,
        );
      }
    }
    return METER.bound(filter.apply(this, args), `${name}: the result`);
  };
}

/** nunjucks' trim (`/^\s*|\s*$/g`, quadratic on inner runs of spaces): \s is String#trim's set. */
function trim(original: TFilter): TFilter {
  return function linearTrim(this: unknown, str: unknown, ...rest: unknown[]) {
    if (!isText(str)) return original.call(this, str, ...rest); // fails as nunjucks' does
    return runtime.copySafeness(str, str.toString().trim());
  };
}

const isLetter = (code: number) => (code | 32) >= 97 && (code | 32) <= 122;
const isDigit = (code: number) => code >= 48 && code <= 57;

/**
 * `input.replace(/<\/?([a-z][a-z0-9]*)\b[^>]*>|<!--[\s\S]*?-->/gi, "")` in one pass. Each
 * `<` that opens a tag (or comment) ends at the first `>` (or `-->`) after it; candidates only
 * move forward, so that search is remembered between them, and text full of unclosed `<a`
 * stays linear where the regular expression scans to the end from each one.
 */
function removeTags(input: string): string {
  let gt = -2; // first ">" at or after the last position asked; -1: none; -2: not searched
  let commentEnd = -2;
  const firstGt = (from: number) => {
    if (gt !== -1 && gt < from) gt = input.indexOf(">", from);
    return gt;
  };
  const firstCommentEnd = (from: number) => {
    if (commentEnd !== -1 && commentEnd < from) commentEnd = input.indexOf("-->", from);
    return commentEnd;
  };
  let out = "";
  let kept = 0;
  let i = input.indexOf("<");
  while (i !== -1) {
    let end = -1;
    if (input.startsWith("<!--", i)) {
      const close = firstCommentEnd(i + 4);
      if (close !== -1) end = close + 3;
    } else {
      let at = input.charCodeAt(i + 1) === 47 ? i + 2 : i + 1; // "</"
      if (isLetter(input.charCodeAt(at))) {
        at++;
        while (isLetter(input.charCodeAt(at)) || isDigit(input.charCodeAt(at))) at++;
        // `\b` after the name: the next character is no word character (only `_` can be).
        if (input.charCodeAt(at) !== 95) {
          const close = firstGt(at);
          if (close !== -1) end = close + 1;
        }
      }
    }
    if (end === -1) {
      i = input.indexOf("<", i + 1);
    } else {
      out += input.slice(kept, i);
      kept = end;
      i = input.indexOf("<", end);
    }
  }
  return out + input.slice(kept);
}

/** `/^ +| +$/gm`: the spaces that start and end each line (quadratic on inner runs). */
function trimLineSpaces(text: string): string {
  return text.replace(/[^\n\r\u2028\u2029]+/g, (line) => {
    let start = 0;
    let end = line.length;
    while (start < end && line.charCodeAt(start) === 32) start++;
    while (end > start && line.charCodeAt(end - 1) === 32) end--;
    return line.slice(start, end);
  });
}

/** nunjucks' striptags with the same result, in linear time. */
function striptags(original: TFilter): TFilter {
  return function linearStriptags(this: unknown, input: unknown, preserveLinebreaks: unknown) {
    if (!isText(input)) return original.call(this, input, preserveLinebreaks);
    const trimmed = removeTags(input.toString()).trim();
    const result = preserveLinebreaks
      ? trimLineSpaces(trimmed)
          .replace(/ +/g, " ")
          .replace(/(\r\n)/g, "\n")
          .replace(/\n\n\n+/g, "\n\n")
      : trimmed.replace(/\s+/gi, " ");
    return runtime.copySafeness(input, result);
  };
}

const LINEAR_FILTERS: Readonly<Record<string, (original: TFilter) => TFilter>> = {
  trim,
  striptags,
};

/** Replaces every filter in `filters` by its bounded (and, where needed, linear) version. */
export function boundFilters(filters: Record<string, TFilter>): void {
  for (const name of Object.keys(filters)) {
    const original = filters[name] as TFilter;
    const linear = LINEAR_FILTERS[name];
    filters[name] = bounded(name, linear ? linear(original) : original);
  }
}

/** nunjucks' range (globals.js), refusing more than maxRangeItems items before making them. */
export function boundedRange(start: unknown, stop?: unknown, step?: unknown): unknown[] {
  // Number() below would flatten a list argument.
  for (const arg of [start, stop, step]) METER.bound(arg, "range(): an argument");
  let from = start;
  let to = stop;
  let by = step;
  if (typeof to === "undefined") {
    to = from;
    from = 0;
    by = 1;
  } else if (!by) {
    by = 1;
  }
  const max = METER.limits.maxRangeItems;
  const span = (Number(to) - Number(from)) / Number(by);
  if (span > max) {
    throw new RenderLimitError(`range(): ${Math.ceil(span)} items is over the limit of ${max}`);
  }
  // The loop is nunjucks' own, on the values as given ("1" + 1 concatenates, as there).
  const items: unknown[] = [];
  const tooMany = () => new RenderLimitError(`range(): more than ${max} items`);
  // Typed as numbers for the compiler only: JavaScript compares and adds whatever they are.
  const [first, last, increment] = [from as number, to as number, by as number];
  if (increment > 0) {
    for (let i = first; i < last; i += increment) {
      if (items.length >= max) throw tooMany();
      items.push(i);
    }
  } else {
    for (let i = first; i > last; i += increment) {
      if (items.length >= max) throw tooMany();
      items.push(i);
    }
  }
  // Each item made is a step: a loop of range() calls can't make more than maxSteps items.
  METER.step(0, Math.max(1, items.length));
  return items;
}
