import { createHash } from "node:crypto";
import { MAX_SUBJECT_CHARS } from "@luxrelay/luxsci";
import {
  compileVariant,
  type TCompiledVariant,
  type TContentSource,
  type TRenderLimits,
  trialRender,
} from "@luxrelay/render";
import { z } from "zod";
import type { AudienceValue } from "../audience/source.ts";
import { OutboundInputError } from "../errors.ts";

// Which content variant a recipient gets (docs/architecture.md "Outbound" 1): the value of an
// audience attribute naming the variant key, or a rule, or the first variant.

/** A variant key: what PUT /offers/{id}/variants/{key} takes, and what a split rule names. */
export const VARIANT_KEY = /^[A-Za-z0-9_-]{1,64}$/;

export const ZVariantRule = z.discriminatedUnion("type", [
  /** Everyone gets the first variant (by position). */
  z.object({ type: z.literal("first") }),
  /** A stable split by contact id: the same contact always lands on the same variant. */
  z.object({
    type: z.literal("split"),
    /** Relative weights per variant key; variants not named get 0. Default: even. */
    weights: z
      .record(
        z
          .string()
          .regex(VARIANT_KEY, { error: "expected variant keys (1-64 letters, digits, _ or -)" }),
        z.number().nonnegative(),
      )
      .refine((weights) => Object.values(weights).some((weight) => weight > 0), {
        error: "at least one variant needs a weight above 0",
      })
      .optional(),
  }),
]);
export type TVariantRule = z.infer<typeof ZVariantRule>;

/**
 * What is wrong with a split rule for an offer with variants `keys`, or null: a weight for a
 * variant the offer doesn't have (issue 14: refused when the execution is created), or no
 * weight above 0 among those it has.
 */
export function splitRuleProblem(
  rule: TVariantRule | null,
  keys: readonly string[],
): string | null {
  if (rule?.type !== "split" || !rule.weights) return null;
  const weights = rule.weights;
  const missing = Object.keys(weights).filter((key) => !keys.includes(key));
  if (missing.length > 0) {
    const named = missing.map((key) => `"${key}"`).join(", ");
    return `split: weights name ${named}, which the offer has no variant for (its variants: ${keys.join(", ")})`;
  }
  if (!keys.some((key) => (weights[key] ?? 0) > 0)) {
    return `split: no variant of the offer has a weight above 0 (variants: ${keys.join(", ")})`;
  }
  return null;
}

export interface PlannedVariant {
  id: number;
  key: string;
  compiled: TCompiledVariant;
}

export interface VariantSource {
  id: number;
  key: string;
  subject: string;
  html: string | null;
  text: string | null;
  position: number;
}

/**
 * What one recipient's render may cost when it is sent (packages/render limits.ts); the
 * merged subject is held to LuxSci's own limit, as the trial render at save time is.
 */
const SEND_RENDER_LIMITS: Partial<TRenderLimits> = { maxSubjectChars: MAX_SUBJECT_CHARS };

export function compileVariants(sources: readonly VariantSource[]): PlannedVariant[] {
  return [...sources]
    .sort((a, b) => a.position - b.position || a.id - b.id)
    .map((source) => ({
      id: source.id,
      key: source.key,
      compiled: compileVariant(
        { subject: source.subject, html: source.html, text: source.text },
        SEND_RENDER_LIMITS,
      ),
    }));
}

/**
 * The check of a variant when it is saved: syntax, sandbox, and one render of `sample` under
 * the send-time limits. Throws the render package's TemplateError, naming the part.
 */
export function trialRenderVariant(
  source: TContentSource,
  sample?: Readonly<Record<string, unknown>>,
): void {
  trialRender(source, { sample, limits: SEND_RENDER_LIMITS });
}

function bucket(contactId: string): number {
  return createHash("sha1").update(contactId).digest().readUInt32BE(0) / 2 ** 32;
}

/** Returns a chooser: attributes -> variant, or a problem naming the field. */
export function variantChooser(
  variants: readonly PlannedVariant[],
  attribute: string | null,
  rule: TVariantRule | null,
): (contactId: string, attributes: Record<string, AudienceValue>) => PlannedVariant | string {
  const byKey = new Map(variants.map((variant) => [variant.key, variant]));
  const first = variants[0];
  if (!first) throw new OutboundInputError("variants", "the offer has no content variants");
  if (attribute) {
    return (_contactId, attributes) => {
      const value = attributes[attribute];
      const variant = byKey.get(String(value ?? ""));
      return variant ?? `no variant with key "${String(value ?? "")}" (attribute ${attribute})`;
    };
  }
  if (rule?.type === "split") {
    const problem = splitRuleProblem(
      rule,
      variants.map((variant) => variant.key),
    );
    if (problem) throw new OutboundInputError("variantRule", problem);
    const weights = variants.map((v) => rule.weights?.[v.key] ?? (rule.weights ? 0 : 1));
    const total = weights.reduce((a, b) => a + b, 0);
    return (contactId) => {
      let at = bucket(contactId) * total;
      for (let i = 0; i < variants.length; i++) {
        at -= weights[i] as number;
        if (at < 0) return variants[i] as PlannedVariant;
      }
      return variants[variants.length - 1] as PlannedVariant;
    };
  }
  return () => first;
}
