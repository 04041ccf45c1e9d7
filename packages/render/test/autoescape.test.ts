import { describe, expect, it } from "vitest";
import { compileVariant } from "../src/index.ts";

// HTML values become text (autoescape); subject and text are plain text and keep them as
// they are. Slots carry the escaped value, since LuxSci inserts them raw.

describe("autoescape", () => {
  const variant = compileVariant({
    subject: "<b>{{ name }}</b>",
    html: "<b>{{ name }}</b> <i>{{ name | safe }}</i>",
    text: "<b>{{ name }}</b>",
  });
  const data = { name: "<script>" };

  it("escapes in html only, and respects | safe", () => {
    expect(variant.renderFull(data)).toEqual({
      subject: "<b><script></b>",
      html: "<b>&lt;script&gt;</b> <i><script></i>",
      text: "<b><script></b>",
    });
  });

  it("puts escaped values in the HTML slots and plain ones in the others", () => {
    expect(variant.template).toEqual({
      subject: "<b>{{s0}}</b>",
      html: "<b>{{h0}}</b> <i>{{h1}}</i>",
      text: "<b>{{t0}}</b>",
    });
    expect(variant.renderSlots(data)).toEqual({
      s0: "<script>",
      h0: "&lt;script&gt;",
      h1: "<script>",
      t0: "<script>",
    });
  });
});
