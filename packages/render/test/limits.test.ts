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

describe("values a template builds", () => {
  // A list doubled n times (`set l = [l, l]`) holds 2^n leaves in n steps; one native call
  // (`l == "x"`, `l ~ ""`, sort) flattened it whole, out of reach of any step: 5.4 s per
  // recipient at n = 24 before, twice as long for each more. Lists and dictionaries are now
  // measured (shared sub-lists counted each time) wherever a template keeps, passes, makes or
  // flattens one, so the doubling stops when it outgrows maxValueChars.
  const DOUBLED = "{% set l = [1] %}{% for i in range(24) %}{% set l = [l, l] %}{% endfor %}";

  it.each([
    ["==", `${DOUBLED}{% if l == "x" %}{% endif %}`],
    ["~ and length", `${DOUBLED}{{ (l ~ "") | length }}`],
    ["sort", `${DOUBLED}{{ [l, l] | sort | length }}`],
    [
      "a macro's arguments",
      '{% macro f(l, n) %}{% if n > 0 %}{{ f([l, l], n - 1) }}{% elif l == "x" %}{% endif %}{% endmacro %}{{ f([1], 24) }}',
    ],
  ])("stops a list doubled in a loop before it is flattened (%s)", (_form, source) => {
    const { error, ms } = failure(html(source));
    expect(error).toMatchObject({ part: "html", line: 1, limit: true });
    expect(error.reason).toMatch(/a value is over the limit of 500000 characters/);
    expect(ms).toBeLessThan(1_000);
  });

  it("measures a macro's arguments", () => {
    const source = html("{% macro m(x) %}{{ x | length }}{% endmacro %}{{ m(items) }}");
    const items = Array.from({ length: 300_000 }, (_, i) => i);
    const { error } = failure(source, { items });
    expect(error).toMatchObject({ limit: true });
    expect(error.reason).toMatch(/a value is over the limit of 500000 characters/);
    expect(compileVariant(source).renderSlots({ items: items.slice(0, 1_000) })).toEqual({
      h0: "1000",
    });
  });

  // A list grown past the limit by push (its items measured one at a time) is measured where
  // something would flatten it.
  const GROWN =
    "{% set x = [1] %}{% for i in range(10) %}{% set x = [x, x] %}{% endfor %}" +
    "{% set a = [] %}{% for i in range(20) %}{% set _ = a.push(x) %}{% endfor %}";
  it.each([
    ['a == "x"', /a value is over/],
    ['a ~ ""', /a value is over/],
    ["a + 1", /a value is over/],
    ['a in "x"', /a value is over/],
    ["a is divisibleby(3)", /a value is over/],
    ["(a) < 1", /a value is over/],
    ["a | sort", /sort: an argument is over/],
    ["a | sum", /sum: an argument is over/],
    ["a.toString()", /the value \.toString\(\) is called on is over/],
    ["'x'.indexOf(a)", /an argument of \.indexOf\(\) is over/],
    ["range(a)", /range\(\): an argument is over/],
    ["{ k: a } | urlencode", /a value is over/],
  ])("refuses %s on a list grown past the limit by push", (expression, reason) => {
    const limits = { maxValueChars: 20_000 };
    const { error, ms } = failure(html(`${GROWN}{{ ${expression} }}`), {}, limits);
    expect(error).toMatchObject({ limit: true });
    expect(error.reason).toMatch(reason);
    expect(error.reason).toMatch(/limit of 20000 characters/);
    expect(ms).toBeLessThan(1_000);
    // One push fewer than the limit: the same expression is allowed.
    expect(() =>
      compileVariant(
        html(`${GROWN.replace("range(20)", "range(2)")}{{ ${expression} }}`),
        limits,
      ).renderSlots({}),
    ).not.toThrow(/over the limit/);
  });

  it("measures a method called later through a variable", () => {
    const { error } = failure(
      html(`${GROWN}{% set f = a.toString %}{{ f() | length }}`),
      {},
      { maxValueChars: 20_000 },
    );
    expect(error.reason).toMatch(/the value \.toString\(\) is called on is over/);
  });

  it("refuses a list nested deeper than any data", () => {
    const { error } = failure(
      html("{% set l = [] %}{% for i in range(40) %}{% set l = [l] %}{% endfor %}"),
    );
    expect(error).toMatchObject({ limit: true });
    expect(error.reason).toBe("a value is nested over 32 levels deep");
  });

  it("keeps ordinary use of lists and dictionaries, linear in their size", () => {
    const products = Array.from({ length: 1_000 }, (_, i) => ({
      sku: `SKU-${i}`,
      name: `Product ${i}`,
      price: i + 0.5,
      tags: ["new", "sale"],
    }));
    const numbers = Array.from({ length: 1_000 }, (_, i) => i);
    const variant = compileVariant(
      html(
        [
          "{% for n in numbers %}{{ n }},{% endfor %}",
          "{% for p in products %}<li>{{ p.name }} {{ p.price | round(2) }}{% if p.tags[1] == 'sale' and loop.index < products | length %};{% endif %}</li>{% endfor %}",
          "{% macro row(p, all) %}{{ p.sku }}/{{ all | length }}{% endmacro %}{% for p in products %}{{ row(p, products) }}{% endfor %}",
          "{% set cheap = [] %}{% for p in products %}{% if p.price < 100 %}{% set _ = cheap.push({ sku: p.sku, tags: p.tags }) %}{% endif %}{% endfor %}",
          "|{{ cheap | length }}|{{ (products | sort(true, false, 'price') | first).sku }}|{{ numbers | sum }}",
          "|{{ products[5].sku in ['SKU-5', 'x'] }}|{{ products | selectattr('price') | length }}",
        ].join(""),
      ),
    );
    const started = performance.now();
    const out = variant.renderFull({ products, numbers }).html;
    const slots = variant.renderSlots({ products, numbers });
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(variant.renderFromSlots(slots).html).toBe(out);
    expect(out).toContain("0,1,2,");
    expect(out).toContain("999,<li>Product 0 0.5;</li>");
    expect(out).toContain("<li>Product 999 999.5</li>SKU-0/1000");
    expect(out).toContain("SKU-999/1000|100|SKU-999|499500|true|1000");
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
    const doubled = html(
      '{% set l = [1] %}{% for i in range(24) %}{% set l = [l, l] %}{% endfor %}{% if l == "x" %}{% endif %}',
    );
    expect(refusal(doubled)).toMatchObject({ part: "html", limit: true });
  });

  it("passes a template that needs data the sample lacks", () => {
    expect(() => trialRender(html("{{ items | join(', ') }} {{ name | upper }}"))).not.toThrow();
    expect(() =>
      trialRender(html("{% for i in range(n) %}.{% endfor %}"), { sample: { n: 3 } }),
    ).not.toThrow();
  });
});
