import { compilePart, fillPart } from "@luxrelay/luxsci-sim";
import { describe, expect, it } from "vitest";
import { compileVariant, slotPlaceholder, type TContentSource } from "../src/index.ts";

// The split: static text stays in the template, each run of dynamic constructs between two
// static texts is one slot; silent `{% set %}` runs take no slot; text that could read as a
// placeholder travels as a slot.

function merged(source: TContentSource, data: Record<string, unknown>) {
  const variant = compileVariant(source);
  const slots = variant.renderSlots(data);
  const fill = (body: string) => fillPart(compilePart(body), slots, false);
  return {
    variant,
    merged: {
      subject: fill(variant.template.subject),
      html: fill(variant.template.html),
      text: fill(variant.template.text),
    },
    full: variant.renderFull(data),
  };
}

describe("slot split", () => {
  it("writes placeholders through slotPlaceholder", () => {
    expect(slotPlaceholder("h0")).toBe("{{h0}}");
    expect(() => slotPlaceholder("a b")).toThrow(/not valid/);
  });

  it("keeps static text static and merges adjacent dynamic constructs", () => {
    const { variant } = merged(
      { subject: "Hi {{ first }}{{ last }}!", html: "<p>static only</p>", text: null },
      {},
    );
    expect(variant.template).toEqual({
      subject: "Hi {{s0}}!",
      html: "<p>static only</p>",
      text: "",
    });
    expect(variant.slots).toEqual(["s0"]);
    expect(variant.contentHash).toMatch(/^[0-9a-f]{64}$/);
  });

  it("shares the template between sources with the same static text", () => {
    const a = compileVariant({ subject: "Hi {{ a }}", html: null, text: null });
    const b = compileVariant({ subject: "Hi {{ b | upper }}", html: null, text: null });
    expect(a.contentHash).toBe(b.contentHash);
    expect(compileVariant({ subject: "Ho {{ a }}", html: null, text: null }).contentHash).not.toBe(
      a.contentHash,
    );
  });

  it("preserves whitespace control exactly", () => {
    const html =
      "<ul>\n  {%- for x in xs -%}\n  <li>{{- x -}}</li>\n  {%- endfor %}\n</ul>  {{- n }}";
    const {
      merged: result,
      full,
      variant,
    } = merged({ subject: "s", html, text: null }, { xs: ["a", "b"], n: 1 });
    expect(full.html).toBe("<ul><li>a</li><li>b</li>\n</ul>1");
    expect(result.html).toBe(full.html);
    expect(variant.template.html).toBe("<ul>{{h0}}\n</ul>{{h1}}");
  });

  it("lets a top-level set reach later slots, without a slot of its own", () => {
    const html =
      "{% set name = first | upper %}<p>{{ name }}</p>{% set name = 'x' %}<i>{{ name }}</i>";
    const {
      merged: result,
      full,
      variant,
    } = merged({ subject: "s", html, text: null }, { first: "ann", name: "data" });
    expect(full.html).toBe("<p>ANN</p><i>x</i>");
    expect(result.html).toBe(full.html);
    expect(variant.template.html).toBe("<p>{{h0}}</p><i>{{h1}}</i>");
  });

  it("keeps nunjucks' scoping of a set inside an untaken if", () => {
    const html = "{% if no %}{% set x = 1 %}{% endif %}[{{ x }}]";
    const { merged: result, full } = merged({ subject: "s", html, text: null }, { x: 5 });
    expect(result.html).toBe(full.html);
  });

  it("sends raw blocks that look like placeholders as slots", () => {
    const html = "<p>{% raw %}{{ notaplaceholder }}{% endraw %}</p>";
    const { merged: result, full, variant } = merged({ subject: "s", html, text: null }, {});
    expect(full.html).toBe("<p>{{ notaplaceholder }}</p>");
    expect(result.html).toBe(full.html);
    expect(variant.template.html).toBe("<p>{{h0}}</p>");
  });

  it("renders macros, calls and loops over objects identically", () => {
    const text =
      "{% macro row(k, v) %}{{ k }}={{ v }};{% endmacro %}{% for k, v in obj %}{{ row(k, v) }}{% endfor %}\n" +
      "{% macro box() %}[{{ caller() }}]{% endmacro %}{% call box() %}in{% endcall %}";
    const { merged: result, full } = merged(
      { subject: "s", html: null, text },
      { obj: { a: 1, b: "<" } },
    );
    expect(full.text).toBe("a=1;b=<;\n[in]");
    expect(result.text).toBe(full.text);
  });
});
