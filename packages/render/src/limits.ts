import nunjucks from "nunjucks";

// What one recipient's render may cost (issue 14: a template can't take a worker down).
// Rendering runs on the worker's event loop, so every bound is checked synchronously while
// the template runs: a loop, a macro call or a filter call is a step (counted, and the clock
// and the heap read every few steps), every value a template keeps, passes, makes, writes or
// gives an operator that may flatten it is measured (text, and lists and dictionaries item by
// item: valueSize), and range() and the padding filters refuse sizes over the limit before
// they allocate. Going over a limit fails that recipient alone with the reason
// (RenderLimitError).

export interface TRenderLimits {
  /** Items one range() call may make. */
  maxRangeItems: number;
  /** Steps (loop iterations, macro calls, filter calls) in one recipient's render. */
  maxSteps: number;
  /** Wall time of one recipient's render, checked every few steps (ms). */
  timeBudgetMs: number;
  /**
   * Characters in one value: a variable set, a value written, a filter's argument or result,
   * a macro's or a method's argument, a list or dictionary made, an operand; one slot. A
   * list or dictionary counts its items (valueSize).
   */
  maxValueChars: number;
  /** Characters in all of one recipient's slot values together. */
  maxOutputChars: number;
  /** Characters in the merged subject (a header line). */
  maxSubjectChars: number;
  /** Growth of the process's heap during one recipient's render, checked every few steps. */
  maxHeapGrowthBytes: number;
}

export const DEFAULT_RENDER_LIMITS: Readonly<TRenderLimits> = {
  maxRangeItems: 10_000,
  maxSteps: 100_000,
  timeBudgetMs: 250,
  maxValueChars: 500_000,
  maxOutputChars: 1_000_000,
  // RFC 5322's line limit; callers pass their provider's own (LuxSci: packages/luxsci
  // MAX_SUBJECT_CHARS, through packages/outbound).
  maxSubjectChars: 998,
  maxHeapGrowthBytes: 256 * 2 ** 20,
};

/** A render that went over one of its limits; toRenderError makes it a TemplateError. */
export class RenderLimitError extends Error {
  override readonly name = "RenderLimitError";
}

const SafeString = (
  nunjucks.runtime as unknown as { SafeString: new (value: string) => { length: number } }
).SafeString;

/** A string, or nunjucks' SafeString (`| safe`, a macro's result): text with a length. */
export function isText(value: unknown): value is string | { length: number } {
  return typeof value === "string" || value instanceof SafeString;
}

/** Nesting of lists and dictionaries deeper than any real data: such a value is refused. */
export const MAX_VALUE_DEPTH = 32;

/**
 * The size of a value a template keeps or passes, stopping early once past `cap`: a text
 * counts its characters, any other leaf 1, and a list or dictionary 1 more for each item (a
 * key its characters too), so the walk visits at most `cap` items whatever the value. A list
 * reached twice counts twice: `[l, l]` is twice `l`, as for a native call that flattens it
 * (`l ~ ""`, `l == "x"`, sort, `l.flat(30)`), so a value doubled in a loop outgrows `cap`
 * in a few steps. Infinity past MAX_VALUE_DEPTH levels.
 */
export function valueSize(value: unknown, cap: number, depth = 0): number {
  if (typeof value === "string") return value.length;
  if (typeof value !== "object" || value === null) return 1;
  if (value instanceof SafeString) return value.length;
  if (depth >= MAX_VALUE_DEPTH) return Number.POSITIVE_INFINITY;
  let total = 0;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      // Leaves inline: a list of 10,000 numbers (range()) is measured without 10,000 calls.
      if (typeof item === "string") total += 1 + item.length;
      else if (typeof item !== "object" || item === null) total += 2;
      else total += 1 + valueSize(item, cap - total, depth + 1);
      if (total > cap) return total;
    }
    return total;
  }
  for (const key in value) {
    if (!Object.hasOwn(value, key)) continue;
    const item = (value as Record<string, unknown>)[key];
    total += 1 + key.length + valueSize(item, cap - total, depth + 1);
    if (total > cap) return total;
  }
  return total;
}

/**
 * Characters `value` becomes when written, stopping early once past `cap`: a string's
 * length, an array's items joined (each counts at least its comma, so the walk is bounded by
 * `cap` whatever the nesting), a number's digits. With `objects`, a dictionary counts its
 * keys and values (JSON: the dump filter); otherwise as "[object Object]".
 */
export function textLength(value: unknown, cap: number, objects = false, depth = 0): number {
  if (typeof value === "string") return value.length;
  if (value === null || value === undefined) return 0;
  if (typeof value === "number" || typeof value === "boolean") return String(value).length;
  if (typeof value !== "object") return 24; // a function or a symbol: not data
  if (value instanceof SafeString) return value.length;
  if (depth > 32) return cap + 1; // deeper than any real data: refused as oversized
  if (Array.isArray(value)) {
    let total = 0;
    for (const item of value) {
      total += 1 + textLength(item, cap - total, objects, depth + 1);
      if (total > cap) return total;
    }
    return total;
  }
  if (!objects) return 15;
  let total = 2;
  for (const key in value) {
    if (!Object.hasOwn(value, key)) continue;
    const item = (value as Record<string, unknown>)[key];
    total += key.length + 4 + textLength(item, cap - total, objects, depth + 1);
    if (total > cap) return total;
  }
  return total;
}
