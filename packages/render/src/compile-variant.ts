import { createHash } from "node:crypto";
import { compileContentPart, type TCompiledPart } from "./compile-part.ts";
import { DEFAULT_RENDER_LIMITS, type TRenderLimits } from "./limits.ts";
import { METER } from "./meter.ts";
import { assertSubjectLine } from "./subject.ts";
import type { TPart } from "./template-error.ts";
import type { TCompiledVariant, TContentSource } from "./types.ts";

// A content variant compiled once: the LuxSci template (shared by every recipient of the
// variant) and the per-recipient slot values that go into template_data with
// template_data_raw: 1. Invariant (property-tested against the simulator's merge):
// fillPart(compilePart(template.X), renderSlots(data), false) === renderFull(data).X.
// Each recipient's render runs under `limits` (limits.ts): going over one, or a merged
// subject that can't be a header line, throws TemplateError for that recipient alone.

const PARTS: readonly TPart[] = ["subject", "html", "text"];

export function compileVariant(
  source: TContentSource,
  limits: Partial<TRenderLimits> = {},
): TCompiledVariant {
  const bounds: Readonly<TRenderLimits> = { ...DEFAULT_RENDER_LIMITS, ...limits };
  // Each part is validated (parsed, sandbox-checked) before any of it is compiled.
  const subject = compileContentPart("subject", source.subject);
  const html = compileContentPart("html", source.html ?? "");
  const text = compileContentPart("text", source.text ?? "");
  const template = { subject: subject.body, html: html.body, text: text.body };
  const withSlots = [subject, html, text].filter((part) => part.slotRenderer !== null);
  return {
    template,
    contentHash: hashTemplate(template),
    slots: [...subject.slots, ...html.slots, ...text.slots],
    renderSlots(data) {
      METER.begin(bounds);
      try {
        const values: Record<string, string> = {};
        for (const part of withSlots) renderPartSlots(part, data, values);
        assertSubjectLine(subject.fillSlots(values), bounds.maxSubjectChars);
        return values;
      } finally {
        METER.end();
      }
    },
    renderFromSlots(values) {
      return {
        subject: subject.fillSlots(values),
        html: html.fillSlots(values),
        text: text.fillSlots(values),
      };
    },
    renderFull(data) {
      METER.begin(bounds);
      try {
        const full = {
          subject: subject.renderFull(data),
          html: html.renderFull(data),
          text: text.renderFull(data),
        };
        assertSubjectLine(full.subject, bounds.maxSubjectChars);
        return full;
      } finally {
        METER.end();
      }
    },
  };
}

function renderPartSlots(
  part: TCompiledPart,
  data: Readonly<Record<string, unknown>>,
  values: Record<string, string>,
): void {
  const rendered = (part.slotRenderer as NonNullable<TCompiledPart["slotRenderer"]>).render(data);
  const names = part.slots;
  for (let i = 0; i < names.length; i++) values[names[i] as string] = rendered[i] as string;
}

function hashTemplate(template: TCompiledVariant["template"]): string {
  const hash = createHash("sha256");
  // NUL between parts: no text moved from one part to the next can give the same hash.
  for (const part of PARTS) hash.update(template[part]).update("\0");
  return hash.digest("hex");
}
