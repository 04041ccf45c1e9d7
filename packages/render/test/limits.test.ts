import fc from "fast-check";
import nunjucks from "nunjucks";
import { describe, expect, it } from "vitest";
import {
  compileVariant,
  subjectSlotWithLineBreak,
  type TContentSource,
  TemplateError,
  type TRenderLimits,
  trialRender,
} from "../src/index.ts";

// Issue 14: a template can't take a worker down. Every runaway render stops at its first check
// past a limit, fast, with a TemplateError marked `limit` that names the part and the limit;
// a merged subject that can't be one header line fails the same way.

function html(source: string): TContentSource {
  return { subject: "s", html: source, text: null };
}

/** The TemplateError a render of `data` throws, and how long it took to throw it. */
function failure(
  source: TContentSource,
  data: Record<string, unknown> = {},
  limits: Partial<TRenderLimits> = {},
): { error: TemplateError; ms: number } {
  const variant = compileVariant(source, limits);
  const started = performance.now();
  try {
    variant.renderSlots(data);
  } catch (error) {
    if (!(error instanceof TemplateError)) throw error;
    return { error, ms: performance.now() - started };
  }
  throw new Error("rendered without going over a limit");
}

describe("render limits", () => {
  it("stops the issue's nested loops (17.8 s per recipient before) at once", () => {
    const { error, ms } = failure(
      html("{% for a in range(5000) %}{% for b in range(4000) %}x{% endfor %}{% endfor %}"),
    );
    expect(error).toMatchObject({ part: "html", line: 1, limit: true });
    // Whichever comes first on a busy machine: 100,000 steps or 250 ms.
    expect(error.reason).toMatch(/went over 100000 steps|time budget of 250 ms/);
    expect(ms).toBeLessThan(2_000);
  });

  it("counts loop iterations, macro calls and filter calls as steps", () => {
    const limits = { maxSteps: 1_000, timeBudgetMs: 60_000 };
    for (const source of [
      "{% for a in range(40) %}{% for b in range(40) %}{% endfor %}{% endfor %}",
      "{% macro f(n) %}{% if n > 0 %}{{ f(n - 1) }}{{ f(n - 1) }}{% endif %}{% endmacro %}{{ f(40) }}",
      "{% for a in range(600) %}{{ a | string | upper }}{% endfor %}",
    ]) {
      expect(failure(html(source), {}, limits).error.reason).toBe(
        "the template went over 1000 steps (loop iterations, macro and filter calls) for one recipient",
      );
    }
  });

  it("stops a render that runs past its time budget", () => {
    const { error, ms } = failure(
      html("{% for a in range(10000) %}{% for b in range(10000) %}{% endfor %}{% endfor %}"),
      {},
      { maxSteps: 1e12, timeBudgetMs: 30 },
    );
    expect(error.reason).toBe("the template exceeded its time budget of 30 ms for one recipient");
    expect(ms).toBeLessThan(1_000);
  });

  it("counts steps per recipient: a template under the limit renders every time", () => {
    // range(20) + 20 iterations, each with range(20) and 20 iterations: 840 steps, under the
    // limit for each recipient, not for two.
    const variant = compileVariant(
      html("{% for a in range(20) %}{% for b in range(20) %}{% endfor %}{% endfor %}ok"),
      { maxSteps: 1_000 },
    );
    for (let i = 0; i < 3; i++) expect(variant.renderSlots({})).toEqual({ h0: "" });
  });

  it("bounds range(): n from the recipient's data", () => {
    const variant = compileVariant(html("{% for i in range(n) %}.{% endfor %}"));
    expect(variant.renderSlots({ n: 10_000 }).h0).toHaveLength(10_000);
    const { error, ms } = failure(html("{% for i in range(n) %}.{% endfor %}"), { n: 1e9 });
    expect(error).toMatchObject({ part: "html", limit: true });
    expect(error.reason).toBe("range(): 1000000000 items is over the limit of 10000");
    expect(ms).toBeLessThan(100);
    expect(failure(html("{{ range(0, 1, 0.0000001) | length }}")).error.reason).toMatch(
      /range\(\)/,
    );
  });

  it.each([
    ["{{ 'a' | center(100000000) }}", /center: the result is over the limit/],
    ["{{ 'a\\nb' | indent(100000000) }}", /indent: the result is over the limit/],
    ["{{ v | replace('', v) }}", /replace: the result is over the limit/],
    ["{{ v | replace('a', v) }}", /replace: the result is over the limit/],
    ["{{ range(1000) | join(v) }}", /join: the result is over the limit/],
    ["{{ [1] | batch(100000000, 'x') | length }}", /batch: 100000000 items/],
    ["{{ [1] | slice(100000000) | length }}", /slice: 100000000 items/],
  ])("refuses a pad before it is made: %s", (source, reason) => {
    const { error, ms } = failure(html(source), { v: "a".repeat(10_000) });
    expect(error).toMatchObject({ part: "html", limit: true });
    expect(error.reason).toMatch(reason);
    expect(ms).toBeLessThan(100);
  });

  it("keeps ordinary uses of those filters", () => {
    const variant = compileVariant(
      html(
        "[{{ 'ab' | center(6) }}]{{ 'a\nb' | indent(2) }}{{ 'aXa' | replace('a', 'b') }}{{ [1, 2] | join('-') }}",
      ),
    );
    expect(variant.renderFull({}).html).toBe("[  ab  ]a\n  bbXb1-2");
  });

  it("stops a string doubled in a loop, by set or by capture, at maxValueChars", () => {
    const set = failure(
      html("{% set s = 'ab' %}{% for i in range(40) %}{% set s = s ~ s %}{% endfor %}{{ s }}"),
    );
    expect(set.error.reason).toMatch(/a value is over the limit of 500000 characters/);
    const capture = failure(
      html(
        "{% set s = 'ab' %}{% for i in range(40) %}{% set s %}{{ s }}{{ s }}{% endset %}{% endfor %}{{ s }}",
      ),
    );
    expect(capture.error.reason).toMatch(/over 1000000 characters/);
    const macro = failure(
      html(
        "{% macro d(x, n) %}{% if n > 0 %}{{ d(x ~ x, n - 1) }}{% endif %}{% endmacro %}{{ d('ab', 40) }}",
      ),
    );
    expect(macro.error.reason).toMatch(/a value is over the limit/);
  });

  it("stops a render that keeps what it makes in a list past maxHeapGrowthBytes", () => {
    const { error, ms } = failure(
      html(
        "{% set kept = [] %}{% for i in range(9000) %}{% set _ = kept.push(big | list) %}{% endfor %}",
      ),
      { big: "x".repeat(100_000) },
      { maxHeapGrowthBytes: 32 * 2 ** 20 },
    );
    // Without the limit: 9,000 lists of 100,000 items, 7 GB.
    expect(error.reason).toBe("the template kept over 32 MiB of memory for one recipient");
    expect(ms).toBeLessThan(2_000);
  });

  it("caps each slot and a recipient's output while rendering", () => {
    const limits = { maxValueChars: 1_000, maxOutputChars: 2_500 };
    const slot = failure(html("{% for i in range(200) %}0123456789{% endfor %}"), {}, limits);
    expect(slot.error.reason).toMatch(/over the limit of 1000 characters/);
    const total = failure(html("{{ v }}<hr>{{ v }}<hr>{{ v }}"), { v: "x".repeat(900) }, limits);
    expect(total.error.reason).toMatch(/over 2500 characters/);
    expect(
      compileVariant(html("{{ v }}<hr>{{ v }}"), limits).renderSlots({ v: "x".repeat(900) }),
    ).toBeTruthy();
  });

  it("fails a subject with CR or LF from a value or the template (header injection)", () => {
    const variant = compileVariant({ subject: "Hello {{ name }}", html: "<p>hi</p>", text: null });
    expect(variant.renderSlots({ name: "Ann" })).toEqual({ s0: "Ann" });
    for (const name of ["Ann\r\nBcc: victim@evil.example", "Ann\nBcc: x", "Ann\rBcc: x"]) {
      const { error } = failure({ subject: "Hello {{ name }}", html: null, text: null }, { name });
      expect(error).toMatchObject({ part: "subject", line: null, limit: true });
      expect(error.reason).toMatch(/line break \(CR or LF\)/);
      expect(() => variant.renderFull({ name })).toThrow(/line break/);
    }
    const fixed = failure({ subject: "Hello\n{{ name }}", html: null, text: null });
    expect(fixed.error.reason).toMatch(/line break/);
  });

  it("fails a merged subject over maxSubjectChars, counted in characters", () => {
    const source = { subject: "Hi {{ name }}", html: null, text: null };
    const limits = { maxSubjectChars: 1000 };
    const variant = compileVariant(source, limits);
    // 997 emoji are 1994 UTF-16 units but 997 characters: "Hi " + 997 = 1000.
    expect(variant.renderSlots({ name: "😀".repeat(997) }).s0).toHaveLength(1994);
    const { error } = failure(source, { name: "x".repeat(998) }, limits);
    expect(error).toMatchObject({ part: "subject", limit: true });
    expect(error.reason).toBe("the subject is 1001 characters once merged, over the limit of 1000");
  });

  it("finds stored subject slot values with a line break", () => {
    expect(subjectSlotWithLineBreak({ s0: "Ann", h0: "a\nb", t0: "\r\n" })).toBeNull();
    expect(subjectSlotWithLineBreak({ s0: "Ann", s1: "x\r\nBcc: y" })).toBe("s1");
  });
});

describe("linear trim and striptags", () => {
  const reference = new nunjucks.Environment();
  const variant = (source: string) => compileVariant({ subject: "s", html: null, text: source });

  it("give nunjucks' own results", () => {
    const text = fc
      .array(fc.constantFrom("<", ">", "/", "!", "-", "a", "B", "1", "_", " ", "\n", "\r", "\t"), {
        maxLength: 40,
      })
      .map((chars) => chars.join(""));
    fc.assert(
      fc.property(text, fc.boolean(), (value, preserve) => {
        const bounded = variant(`[{{ v | trim }}]{{ v | striptags(${preserve}) }}`).renderFull({
          v: value,
        }).text;
        const expected = `[${reference.getFilter("trim")(value)}]${reference.getFilter("striptags")(value, preserve)}`;
        expect(bounded).toBe(expected);
      }),
      { numRuns: 2_000 },
    );
  });

  it("take linear time on input that makes nunjucks' regular expressions backtrack", () => {
    const render = variant(
      "{{ a | trim | length }} {{ b | striptags(true) | length }} {{ c | striptags | length }}",
    );
    const started = performance.now();
    const out = render.renderFull({
      a: `a${" ".repeat(200_000)}a`,
      b: `a${" ".repeat(200_000)}a`,
      c: "<a".repeat(100_000),
    }).text;
    expect(out).toBe("200002 3 200000");
    expect(performance.now() - started).toBeLessThan(500);
  });
});

describe("trialRender", () => {
  it("refuses a template that loops, pads or writes without end, naming the part", () => {
    const refusal = (source: TContentSource) => {
      try {
        trialRender(source);
      } catch (error) {
        if (error instanceof TemplateError) return error;
        throw error;
      }
      throw new Error("not refused");
    };
    expect(
      refusal(
        html("{% for a in range(5000) %}{% for b in range(4000) %}x{% endfor %}{% endfor %}"),
      ),
    ).toMatchObject({ part: "html", limit: true });
    expect(
      refusal({ subject: "s", html: null, text: "{{ 'a' | center(100000000) }}" }),
    ).toMatchObject({ part: "text", limit: true });
    expect(refusal({ subject: "Hi\n{{ email }}", html: null, text: null })).toMatchObject({
      part: "subject",
    });
  });

  it("passes a template that needs data the sample lacks", () => {
    expect(() => trialRender(html("{{ items | join(', ') }} {{ name | upper }}"))).not.toThrow();
    expect(() =>
      trialRender(html("{% for i in range(n) %}.{% endfor %}"), { sample: { n: 3 } }),
    ).not.toThrow();
  });
});
