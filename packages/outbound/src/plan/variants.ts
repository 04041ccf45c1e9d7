import { createHash } from "node:crypto";
import { compileVariant, type TCompiledVariant } from "@luxrelay/render";
import { z } from "zod";
import type { AudienceValue } from "../audience/source.ts";
import { OutboundInputError } from "../errors.ts";

// Which content variant a recipient gets (DESIGN "Outbound" 1): the value of an audience
// attribute naming the variant key, or a rule, or the first variant.

export const ZVariantRule = z.discriminatedUnion("type", [
  /** Everyone gets the first variant (by position). */
  z.object({ type: z.literal("first") }),
  /** A stable split by contact id: the same contact always lands on the same variant. */
  z.object({
    type: z.literal("split"),
    /** Relative weights per variant key; variants not named get 0. Default: even. */
    weights: z.record(z.string(), z.number().nonnegative()).optional(),
  }),
]);
export type TVariantRule = z.infer<typeof ZVariantRule>;

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

export function compileVariants(sources: readonly VariantSource[]): PlannedVariant[] {
  return [...sources]
    .sort((a, b) => a.position - b.position || a.id - b.id)
    .map((source) => ({
      id: source.id,
      key: source.key,
      compiled: compileVariant({ subject: source.subject, html: source.html, text: source.text }),
    }));
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
    const weights = variants.map((v) => rule.weights?.[v.key] ?? (rule.weights ? 0 : 1));
    const total = weights.reduce((a, b) => a + b, 0);
    if (total <= 0) {
      const named = Object.keys(rule.weights ?? {}).join(", ");
      throw new OutboundInputError(
        "variantRule",
        `split: no variant of the offer has a weight above 0 (weights name: ${named}; variants: ${variants.map((v) => v.key).join(", ")})`,
      );
    }
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
