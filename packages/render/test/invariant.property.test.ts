import { compilePart, fillPart } from "@luxrelay/luxsci-sim";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { compileVariant, TemplateError } from "../src/index.ts";

// The render model's invariant (docs/architecture.md "Render model" 4), on random templates and
// data, with the simulator's own merge: merge(template, renderSlots(data)) === renderFull(data).

const PARTS = ["subject", "html", "text"] as const;
const VAR = fc.constantFrom("a", "b", "c", "list", "missing");
const DASH = fc.constantFrom("", "-");
const chars = (alphabet: string, maxLength: number) =>
  fc.array(fc.constantFrom(...alphabet), { maxLength }).map((cs) => cs.join(""));

// Static text with HTML specials, braces and newlines; a `{` that would open a tag
// (`{{`, `{%`, `{#`, or one just before the next element) is followed by a space, and so
// is a `%` or `#` before `}` or at the end (nunjucks refuses a stray tag end).
const TEXT = chars("ab <>&\"'{}\n%#-", 10).map((t) =>
  t.replace(/\{(?=[{%#]|$)/g, "{ ").replace(/([%#])(?=\}|$)/g, "$1 "),
);
const OUTPUT = fc
  .tuple(DASH, VAR, DASH)
  .map(([open, name, close]) => `{{${open} ${name} ${close}}}`);
// `| upper` throws on numbers and lists (in both renders, checked below): mostly strings here.
const UPPER = fc.constantFrom("a", "a", "a", "b", "missing").map((name) => `{{ ${name} | upper }}`);
const RAW = fc
  .tuple(DASH, chars("xy {}<&", 6))
  // nunjucks allows whitespace control on the opening tag only.
  .map(([dash, inner]) => `{%${dash} raw %}{{ notaplaceholder }}${inner}{% endraw %}`);
const SET = fc
  .tuple(fc.constantFrom("a", "b"), VAR)
  .map(([target, name]) => `{% set ${target} = ${name} %}`);

const tag = (dash: [string, string], body: string) => `{%${dash[0]} ${body} ${dash[1]}%}`;

const { template } = fc.letrec((tie) => ({
  template: fc.array(tie("element"), { maxLength: 6 }).map((parts) => parts.join("")),
  element: fc.oneof(
    { maxDepth: 3, depthIdentifier: "template" },
    TEXT,
    OUTPUT,
    UPPER,
    RAW,
    SET,
    tie("if"),
    tie("for"),
  ),
  if: fc
    .tuple(fc.tuple(DASH, DASH), VAR, tie("template"), fc.option(tie("template")))
    .map(
      ([dash, name, body, otherwise]) =>
        `${tag(dash, `if ${name}`)}${body}${otherwise === null ? "" : `${tag(dash, "else")}${otherwise}`}${tag(dash, "endif")}`,
    ),
  for: fc
    .tuple(fc.tuple(DASH, DASH), VAR, tie("template"))
    .map(
      ([dash, name, body]) =>
        `${tag(dash, `for x in ${name}`)}{{ x }}${body}${tag(dash, "endfor")}`,
    ),
}));

const STRING = chars("ab<>&\"' {}\n", 8);
const SCALAR = fc.oneof(
  STRING,
  fc.integer({ min: -1000, max: 1000 }),
  fc.boolean(),
  fc.constant(null),
);
const DATA = fc.record(
  {
    a: fc.oneof(STRING, fc.constant(null)),
    b: SCALAR,
    c: fc.oneof(SCALAR, fc.array(STRING, { maxLength: 3 })),
    list: fc.array(fc.oneof(STRING, fc.integer()), { maxLength: 4 }),
  },
  { requiredKeys: [] },
);

const SOURCE = fc.record({
  subject: template,
  html: fc.option(template),
  text: fc.option(template),
});

describe("merge(template, renderSlots(data)) === renderFull(data)", () => {
  it("holds for random templates and data, with the simulator's merge", () => {
    fc.assert(
      fc.property(SOURCE, fc.array(DATA, { minLength: 1, maxLength: 3 }), (source, recipients) => {
        const variant = compileVariant(source);
        for (const data of recipients) {
          let full: ReturnType<typeof variant.renderFull>;
          try {
            full = variant.renderFull(data);
          } catch (error) {
            // e.g. `| upper` on a number: the slots fail the same way.
            expect(error).toBeInstanceOf(TemplateError);
            expect(() => variant.renderSlots(data)).toThrow(TemplateError);
            continue;
          }
          const slots = variant.renderSlots(data);
          expect(Object.keys(slots)).toEqual(variant.slots);
          const inTemplates: string[] = [];
          for (const part of PARTS) {
            const compiled = compilePart(variant.template[part]);
            inTemplates.push(...compiled.filter((_, i) => i % 2 === 1));
            expect(fillPart(compiled, slots, false)).toBe(full[part]);
          }
          // No static text was read as a placeholder: LuxSci sees exactly our slots.
          expect(inTemplates).toEqual(variant.slots);
          // The local merge (mail-merge export from stored slots) agrees with LuxSci's.
          expect(variant.renderFromSlots(slots)).toEqual(full);
        }
      }),
      { numRuns: 600 },
    );
  });
});
