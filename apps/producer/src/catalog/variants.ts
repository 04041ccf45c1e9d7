import {
  NotFoundError,
  OutboundInputError,
  trialRenderVariant,
  VARIANT_KEY,
} from "@luxrelay/outbound";
import { TemplateError } from "@luxrelay/render";
import { z } from "zod";
import type { CatalogDeps } from "./context.ts";

// Content variants: nunjucks sources checked at the door (syntax, sandbox, and a trial render
// for a sample recipient under the send-time limits), so a template error, or one that loops,
// pads or writes without end, reaches its author with the part and line now, not as a failed
// plan or a refused recipient at send time.

export const ZVariantKey = z.object({
  id: z.coerce
    .number()
    .int()
    .positive()
    .max(2 ** 31 - 1),
  key: z.string().regex(VARIANT_KEY, { error: "expected 1-64 letters, digits, _ or -" }),
});

export const ZVariantPut = z
  .object({
    subject: z.string().min(1).max(1000),
    html: z.string().max(5_000_000).nullable().optional(),
    text: z.string().max(5_000_000).nullable().optional(),
    /** Which parts the message carries; each named part must be given. */
    format: z.enum(["both", "html", "text"]).default("both"),
    position: z.int().min(0).max(10_000).default(0),
    /** A recipient's data for the trial render (not stored); an email and contact id are added. */
    sample: z.record(z.string(), z.unknown()).optional(),
  })
  .strict()
  .superRefine((variant, ctx) => {
    if (variant.format !== "text" && !variant.html) {
      ctx.addIssue({
        code: "custom",
        path: ["html"],
        message: `required for format ${variant.format}`,
      });
    }
    if (variant.format !== "html" && !variant.text) {
      ctx.addIssue({
        code: "custom",
        path: ["text"],
        message: `required for format ${variant.format}`,
      });
    }
  });
export type TVariantPut = z.infer<typeof ZVariantPut>;

/** Creates or replaces the variant `key` of an offer. */
export async function putVariant(
  deps: CatalogDeps,
  offerId: number,
  key: string,
  input: TVariantPut,
) {
  // A part the format leaves out is not stored, so it can't be sent by mistake.
  const html = input.format === "text" ? null : (input.html ?? null);
  const text = input.format === "html" ? null : (input.text ?? null);
  try {
    trialRenderVariant({ subject: input.subject, html, text }, input.sample);
  } catch (error) {
    if (!(error instanceof TemplateError)) throw error;
    const where = error.line === null ? "" : ` (line ${error.line})`;
    throw new OutboundInputError(`variants.${key}.${error.part}`, `${error.reason}${where}`);
  }
  const offer = await deps.prisma.offer.findUnique({
    where: { id: offerId },
    select: { id: true },
  });
  if (!offer) throw new NotFoundError("offer", offerId);
  const data = {
    subject: input.subject,
    html,
    text,
    format: input.format,
    position: input.position,
  };
  return deps.prisma.contentVariant.upsert({
    where: { offerId_key: { offerId, key } },
    create: { offerId, key, ...data },
    update: data,
  });
}
