import { describe, expect, it } from "vitest";
import { compileVariant, TemplateError, type TPart, validateContent } from "../src/index.ts";

// The sandbox refuses, before anything is compiled, every way out of the template's data:
// constructors, prototypes, globals, the process, other templates. The error names the part
// and line so the author can fix it.

function refusal(part: TPart, source: string): TemplateError {
  const content = { subject: "ok", html: null, text: null, [part]: source };
  try {
    validateContent(content);
  } catch (error) {
    if (error instanceof TemplateError) return error;
    throw error;
  }
  throw new Error(`not refused: ${source}`);
}

describe("sandbox", () => {
  it.each([
    ['{{ "".constructor.constructor("return process")() }}', /constructor/],
    ["{{ x.__proto__ }}", /__proto__/],
    ["{{ range.constructor }}", /constructor/],
    ["{{ cycler.constructor }}", /constructor/],
    ["{{ joiner.prototype }}", /prototype/],
    ["{{ process }}", /process/],
    ["{{ process.env.SECRET }}", /process/],
    ["{{ global }}", /global/],
    ["{{ constructor }}", /constructor/],
    ["{{ x.__defineGetter__('a', y) }}", /__defineGetter__/],
    ["{{ x.__lookupGetter__ }}", /__lookupGetter__/],
    ['{{ x["constructor"] }}', /constructor/],
    ['{{ x["con" ~ "structor"] }}', /computed member lookups/],
    ["{{ x[key] }}", /computed member lookups/],
    ['{{ items | join(",", "constructor") }}', /constructor/],
    ['{{ {"__proto__": 1} }}', /__proto__/],
    ["{% set constructor = 1 %}", /constructor/],
    ["{{ f.caller }}", /caller/],
    ['{% include "/etc/passwd" %}', /include/],
    ['{% import "macros.njk" as m %}', /import/],
    ['{% from "macros.njk" import m %}', /import/],
    ['{% extends "base.njk" %}', /extends/],
    ["{% block body %}x{% endblock %}", /block/],
    ["{{ x | random }}", /unknown filter `random`/],
    ["{% asyncEach x in y %}{{ x }}{% endeach %}", /asyncEach/],
    // A `{% set %}` capture's body is not among its node's fields: walked all the same.
    ['{% set x %}{{ "".constructor.constructor("return process")() }}{% endset %}', /constructor/],
    ["{% set x %}{% include 'a' %}{% endset %}", /include/],
    // Issue 14: one native call whose cost no limit of the render can bound.
    ["{{ name | replace(r/(a+)+$/, 'b') }}", /regular expressions/],
    ['{{ "a".repeat(100000000) }}', /`\.repeat` is not allowed/],
    ['{{ "a".padStart(100000000) }}', /`\.padStart` is not allowed/],
    ['{{ name.match("(a+)+$") }}', /`\.match` is not allowed/],
    ["{{ items.push.apply(items, items) }}", /`\.apply` is not allowed/],
    ["{{ items.concat(items) }}", /`\.concat` is not allowed/],
  ])("refuses %s", (source, reason) => {
    for (const part of ["subject", "html", "text"] as const) {
      const error = refusal(part, `first line\n\n${source}`);
      expect(error.part).toBe(part);
      expect(error.line).toBe(3);
      expect(error.message).toMatch(new RegExp(`^${part} line 3: `));
      expect(error.reason).toMatch(reason);
    }
  });

  it("names the part and line of a syntax error", () => {
    expect(refusal("html", "<p>\n{{ name }\n</p>")).toMatchObject({ part: "html", line: 2 });
    expect(refusal("subject", "Hi {% if x %}")).toMatchObject({ part: "subject", line: 1 });
    expect(refusal("text", "a\nb\n{% endfor %}")).toMatchObject({ part: "text", line: 3 });
  });

  it("compileVariant validates first", () => {
    expect(() =>
      compileVariant({ subject: "{{ x.constructor }}", html: null, text: null }),
    ).toThrow(TemplateError);
  });

  it("passes ordinary templates with filters, if, for, set, macro and call", () => {
    const source = [
      "{% set greeting = 'Hello' %}{{ greeting }} {{ first | default('friend') | title }}",
      "{% if vip %}VIP{% elif score > 3 %}good{% else %}{{ score | round(1) }}{% endif %}",
      "{% for item in items %}{{ loop.index }}. {{ item.name | upper | truncate(10) }}{% endfor %}",
      "{{ items | length }} {{ items | first | replace('a', 'b') }} {{ tags | join(', ') }}",
      "{{ price | float | round(2) }} {{ count | int }} {{ '  x ' | trim | capitalize }}",
      "{{ items[0].name }} {{ user.address.city | lower }} {{ '<b>' | escape }} {{ html | safe }}",
      "{% macro badge(t) %}[{{ t }}]{% endmacro %}{{ badge('new') }}",
      "{% for i in range(0, 3) %}{{ i }}{% endfor %}",
    ].join("\n");
    expect(() => validateContent({ subject: source, html: source, text: source })).not.toThrow();
    const variant = compileVariant({ subject: "s", html: source, text: null });
    const html = variant.renderFull({
      first: "ann",
      vip: false,
      score: 2.26,
      items: [{ name: "alpha" }, { name: "beta" }],
      tags: ["a", "b"],
      price: "3.14159",
      count: "7",
      user: { address: { city: "PARIS" } },
      html: "<i>ok</i>",
    }).html;
    expect(html).toContain("Hello Ann");
    expect(html).toContain("2.3");
    expect(html).toContain("1. ALPHA2. BETA");
    expect(html).toContain("3.14 7 X");
    expect(html).toContain("alpha paris &lt;b&gt; <i>ok</i>");
    expect(html).toContain("[new]");
    expect(html).toContain("012");
  });
});
