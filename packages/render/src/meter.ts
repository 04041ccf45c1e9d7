import { getHeapStatistics } from "node:v8";
import {
  DEFAULT_RENDER_LIMITS,
  isText,
  MAX_VALUE_DEPTH,
  RenderLimitError,
  type TRenderLimits,
  textLength,
  valueSize,
} from "./limits.ts";

// The running count of one recipient's render against its limits. Rendering is synchronous
// and never nested (a template can't start another render), so one meter serves the whole
// process: compileVariant begins it before a recipient and ends it after. Compiled templates
// call it (instrument.ts), and so do the bounded filters and range() (filters.ts).

/** Steps between two looks at the clock and the heap (each look costs a few steps' time). */
const CHECK_EVERY_STEPS = 16;

/**
 * Items measured (valueSize) between two looks: about a millisecond of walking, and of the
 * native work on what was measured (a flatten costs about what its walk did).
 */
const CHECK_EVERY_MEASURED = 2 ** 16;

/**
 * Methods whose call can't walk the value they are called on, so it is not measured: `push`
 * only appends (its arguments are measured), and measuring the list at each push would make
 * `{% set _ = rows.push(row) %}` in a loop quadratic. A list grown past the limit that way is
 * refused where it is used (an operand, an argument, a value written or kept).
 */
const APPENDING_METHODS: ReadonlySet<unknown> = new Set(["push"]);

/** Sizes from which a measured value's is remembered (a smaller one walks as fast as a look-up). */
const REMEMBER_FROM_SIZE = 64;

class RenderMeter {
  limits: Readonly<TRenderLimits> = DEFAULT_RENDER_LIMITS;
  private steps = 0;
  private nextCheck = CHECK_EVERY_STEPS;
  private written = 0;
  private slotChars = 0;
  /** Items measured since the last look at the clock. */
  private measured = 0;
  /**
   * Sizes of lists and dictionaries measured since the last call of a method on one, which
   * may change any of them (push): `{{ row(p, items) }}` in a loop over items walks them once.
   * Templates change values in no other way (no assignment to a member).
   */
  private sizes: WeakMap<object, number> | null = null;
  private deadline = Number.POSITIVE_INFINITY;
  /** The heap in use at the render's first look; -1 before it. */
  private heapBase = -1;

  begin(limits: Readonly<TRenderLimits>): void {
    this.reset(limits);
    this.deadline = performance.now() + limits.timeBudgetMs;
  }

  end(): void {
    this.reset(DEFAULT_RENDER_LIMITS);
  }

  private reset(limits: Readonly<TRenderLimits>): void {
    this.limits = limits;
    this.steps = 0;
    this.nextCheck = CHECK_EVERY_STEPS;
    this.written = 0;
    this.slotChars = 0;
    this.measured = 0;
    this.sizes = null;
    this.deadline = Number.POSITIVE_INFINITY;
    this.heapBase = -1;
  }

  /**
   * A loop iteration, a macro call or a filter call (`count`: range() counts the items it
   * makes); `buffered`: what the output being written holds so far.
   */
  step(buffered: number, count = 1): void {
    const { limits } = this;
    if (buffered > limits.maxValueChars) throw overValue("the output", buffered, limits);
    this.steps += count;
    if (this.steps > limits.maxSteps) {
      throw new RenderLimitError(
        `the template went over ${limits.maxSteps} steps (loop iterations, macro and filter calls) for one recipient`,
      );
    }
    if (this.steps >= this.nextCheck) {
      this.nextCheck = this.steps + CHECK_EVERY_STEPS;
      this.checkClockAndHeap();
    }
  }

  /**
   * Few renders take more than a few steps, so only those pay for the looks. The heap is the
   * backstop for what each step may keep (a list pushed onto a list in a loop, a frame of a
   * recursive macro): measured from the first look, what a scavenge would free is well under
   * the limit.
   */
  private checkClockAndHeap(): void {
    const { limits } = this;
    if (performance.now() > this.deadline) {
      throw new RenderLimitError(
        `the template exceeded its time budget of ${limits.timeBudgetMs} ms for one recipient`,
      );
    }
    const heap = getHeapStatistics().used_heap_size;
    if (this.heapBase < 0) {
      this.heapBase = heap;
    } else if (heap - this.heapBase > limits.maxHeapGrowthBytes) {
      throw new RenderLimitError(
        `the template kept over ${limits.maxHeapGrowthBytes / 2 ** 20} MiB of memory for one recipient`,
      );
    }
  }

  /** A macro (or `{% call %}` body) called with `args`: a step, and arguments of bounded size. */
  enter(args: ArrayLike<unknown>): void {
    this.step(0);
    for (let i = 0; i < args.length; i++) {
      const arg = args[i];
      // Keyword arguments come as one object that nunjucks marks.
      if ((arg as { __keywords?: unknown } | null)?.__keywords === true) {
        for (const value of Object.values(arg as object)) this.bound(value);
      } else {
        this.bound(arg);
      }
    }
  }

  /**
   * A value the template keeps (`set`, a capture), passes (a macro's, a filter's or a
   * method's argument), makes (a call's result, a list or dictionary literal) or gives an
   * operator that may flatten it (`==`, `~`, `+`, `in`, `is`...): text can double each time it
   * is kept (`set s = s ~ s`), and so can a list (`set l = [l, l]`), whose one native flatten
   * (`l == "x"`) would then walk 2^n items out of reach of any step. So a list or dictionary is
   * measured too (valueSize: a shared sub-list counts each time it is reached), a walk that
   * stops past maxValueChars; what is measured counts toward the next look at the clock.
   */
  bound<T>(value: T, what = "a value"): T {
    if (typeof value === "object" && value !== null && !isText(value)) {
      this.measure(value, what);
    } else if (isText(value) && value.length > this.limits.maxValueChars) {
      throw overValue(what, value.length, this.limits);
    }
    return value;
  }

  private measure(value: object, what: string): void {
    const { limits } = this;
    let size = this.sizes?.get(value);
    if (size === undefined) {
      size = valueSize(value, limits.maxValueChars);
      if (size > limits.maxValueChars) {
        throw size === Number.POSITIVE_INFINITY
          ? new RenderLimitError(`${what} is nested over ${MAX_VALUE_DEPTH} levels deep`)
          : overValue(what, size, limits);
      }
      if (size >= REMEMBER_FROM_SIZE) {
        this.sizes ??= new WeakMap();
        this.sizes.set(value, size);
      }
    }
    // Counted when remembered too: what uses the value may walk it whole (`l == "x"`).
    this.measured += size;
    if (this.measured > CHECK_EVERY_MEASURED) {
      this.measured = 0;
      this.checkClockAndHeap();
    }
  }

  /**
   * `obj[key]` for the template's `obj.key`, as nunjucks' runtime.memberLookup (same result):
   * a method comes back bound to `obj`. A call of it, however it is made (`l.sort()`, or
   * `{% set f = l.sort %}` and `f()` later), first measures its arguments and `obj`: one
   * native call may walk either whole (`l.toString()`, `l.flat(30)`, `s.split(l)`). Its result
   * is measured where the template calls it (instrument.ts). A method of a list or a
   * dictionary may change it (push), or anything its callbacks reach: the sizes remembered
   * are forgotten.
   */
  member(obj: unknown, key: string | number): unknown {
    if (obj === undefined || obj === null) return undefined;
    const target = obj as Record<string | number, unknown>;
    if (typeof target[key] !== "function") return target[key];
    const measureTarget = !APPENDING_METHODS.has(key);
    const mayChange = typeof obj === "object" || typeof obj === "function";
    // Called as nunjucks calls it (with the context as `this`, which it ignores).
    return (...args: unknown[]): unknown => {
      if (measureTarget) this.bound(obj, `the value .${key}() is called on`);
      for (let i = 0; i < args.length; i++) this.bound(args[i], `an argument of .${key}()`);
      const method = target[key] as (...args: unknown[]) => unknown;
      if (!mayChange) return method.apply(obj, args);
      this.sizes = null;
      try {
        return method.apply(obj, args);
      } finally {
        this.sizes = null;
      }
    };
  }

  /** A value the template writes (`{{ ... }}`), before it is escaped. */
  output<T>(value: T): T {
    let length: number;
    if (typeof value === "string") length = value.length;
    else if (value === undefined || value === null || typeof value === "number") return value;
    else length = textLength(value, this.limits.maxValueChars);
    const { limits } = this;
    if (length > limits.maxValueChars) throw overValue("a value written", length, limits);
    this.written += length;
    if (this.written > limits.maxOutputChars) {
      throw new RenderLimitError(
        `the template wrote over ${limits.maxOutputChars} characters for one recipient`,
      );
    }
    return value;
  }

  /** One finished slot value. */
  slot(text: string): void {
    const { limits } = this;
    if (text.length > limits.maxValueChars) throw overValue("a slot", text.length, limits);
    this.slotChars += text.length;
    if (this.slotChars > limits.maxOutputChars) {
      throw new RenderLimitError(
        `the slot values of one recipient are over ${limits.maxOutputChars} characters in all`,
      );
    }
  }
}

/** `length` is exact for a string, a lower bound for a list (the walks stop past the cap). */
export function overValue(what: string, length: number, limits: Readonly<TRenderLimits>) {
  return new RenderLimitError(
    `${what} is over the limit of ${limits.maxValueChars} characters (${length} or more)`,
  );
}

export const METER = new RenderMeter();
