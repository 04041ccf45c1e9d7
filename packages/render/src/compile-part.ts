import nunjucks from "nunjucks";
import { environmentFor } from "./environment.ts";
import { parsePart } from "./parse-part.ts";
import { slotPlaceholder } from "./placeholder.ts";
import { toRenderError } from "./render-error.ts";
import { compileSlotRenderer, type TSlotRenderer } from "./slot-renderer.ts";
import { splitTopLevel } from "./slot-split.ts";
import type { TPart } from "./template-error.ts";

/** Slot names start with the part's letter: s0 (subject), h0 (html), t0 (text). */
export const SLOT_PREFIX: Readonly<Record<TPart, string>> = { subject: "s", html: "h", text: "t" };

export interface TCompiledPart {
  /** The LuxSci template body of this part. */
  body: string;
  slots: readonly string[];
  /** Null when the part has no slot (all static text). */
  slotRenderer: TSlotRenderer | null;
  renderFull(data: Readonly<Record<string, unknown>>): string;
  /** The body with slot values put in, as LuxSci merges them (raw, missing slot: empty). */
  fillSlots(values: Readonly<Record<string, string>>): string;
}

/** Validates, splits and compiles one part; compiled once per variant, reused per recipient. */
export function compileContentPart(part: TPart, source: string): TCompiledPart {
  const runs = splitTopLevel(parsePart(part, source));
  const slots: string[] = [];
  // Static texts around the slots: statics[i] comes before slots[i], the last one after all.
  const statics: string[] = [""];
  for (const run of runs) {
    if (run.kind === "static") {
      statics[statics.length - 1] += run.text;
    } else if (!run.silent) {
      slots.push(`${SLOT_PREFIX[part]}${slots.length}`);
      statics.push("");
    }
  }
  const body = slots.reduce(
    (text, name, i) => text + slotPlaceholder(name) + statics[i + 1],
    statics[0] as string,
  );
  // The full render is nunjucks' own compile of the source, not assembled from the slots:
  // it is the reference the slot split is tested against.
  const full = new nunjucks.Template(source, environmentFor(part), part, true);
  return {
    body,
    slots,
    slotRenderer: slots.length > 0 ? compileSlotRenderer(part, runs) : null,
    renderFull(data) {
      try {
        return full.render(data);
      } catch (error) {
        throw toRenderError(part, error);
      }
    },
    fillSlots(values) {
      let text = statics[0] as string;
      for (let i = 0; i < slots.length; i++) {
        const value = Object.hasOwn(values, slots[i] as string) ? values[slots[i] as string] : "";
        text += (value ?? "") + statics[i + 1];
      }
      return text;
    },
  };
}
