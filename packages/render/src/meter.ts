import { getHeapStatistics } from "node:v8";
import {
  DEFAULT_RENDER_LIMITS,
  isText,
  RenderLimitError,
  type TRenderLimits,
  textLength,
} from "./limits.ts";

// The running count of one recipient's render against its limits. Rendering is synchronous
// and never nested (a template can't start another render), so one meter serves the whole
// process: compileVariant begins it before a recipient and ends it after. Compiled templates
// call it (instrument.ts), and so do the bounded filters and range() (filters.ts).

/** Steps between two looks at the clock and the heap (each look costs a few steps' time). */
const CHECK_EVERY_STEPS = 16;

class RenderMeter {
  limits: Readonly<TRenderLimits> = DEFAULT_RENDER_LIMITS;
  private steps = 0;
  private nextCheck = CHECK_EVERY_STEPS;
  private written = 0;
  private slotChars = 0;
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
   * backstop for what each step may keep (a list pushed onto a list in a loop): measured from
   * the first look, what a scavenge would free is well under the limit.
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
   * A value the template keeps (`set`, a macro argument): text can double each time it is
   * kept (`set s = s ~ s`), so it is measured; a list only grows an item per call (push).
   */
  bound<T>(value: T): T {
    if (isText(value) && value.length > this.limits.maxValueChars) {
      throw overValue("a value", value.length, this.limits);
    }
    return value;
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

/** `length` is exact for a string, a lower bound for a list (textLength stops past the cap). */
export function overValue(what: string, length: number, limits: Readonly<TRenderLimits>) {
  return new RenderLimitError(
    `${what} is over the limit of ${limits.maxValueChars} characters (${length} or more)`,
  );
}

export const METER = new RenderMeter();
