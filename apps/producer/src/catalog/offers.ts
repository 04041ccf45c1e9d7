import { NotFoundError, normalizeEmail, ZVariantRule } from "@luxrelay/outbound";
import { z } from "zod";
import type { CatalogDeps } from "./context.ts";
import { ConflictError } from "./errors.ts";

// Offers: what is sent (content variants, how a recipient's variant is chosen) and the seed
// list that receives every send of it (docs/architecture.md "Outbound" 10).

/** A seed list: valid addresses, lowercased and de-duplicated (a seed gets one copy). */
export const ZSeeds = z
  .array(
    z.string().transform((value, ctx) => {
      const checked = normalizeEmail(value);
      if ("email" in checked) return checked.email;
      ctx.addIssue({ code: "custom", message: checked.problem });
      return z.NEVER;
    }),
  )
  .max(1000)
  .transform((emails) => [...new Set(emails)]);

export const ZOfferCreate = z
  .object({
    name: z.string().trim().min(1).max(200),
    /** Audience attribute whose value is the variant key of each recipient. */
    variantAttribute: z.string().min(1).max(200).nullable().optional(),
    variantRule: ZVariantRule.nullable().optional(),
    seeds: ZSeeds.optional(),
  })
  .strict();
export type TOfferCreate = z.infer<typeof ZOfferCreate>;

export const ZSeedsPut = z.object({ seeds: ZSeeds }).strict();

export async function createOffer(deps: CatalogDeps, campaignId: number, input: TOfferCreate) {
  const campaign = await deps.prisma.campaign.findUnique({ where: { id: campaignId } });
  if (!campaign) throw new NotFoundError("campaign", campaignId);
  const existing = await deps.prisma.offer.findUnique({
    where: { campaignId_name: { campaignId, name: input.name } },
  });
  if (existing) {
    throw new ConflictError("name", `campaign ${campaignId} has an offer "${input.name}"`);
  }
  const offer = await deps.prisma.offer.create({
    data: {
      campaignId,
      name: input.name,
      variantAttribute: input.variantAttribute ?? null,
      variantRule: input.variantRule ?? undefined,
      seeds: input.seeds ?? [],
    },
  });
  return getOffer(deps, offer.id);
}

/** An offer with its campaign and variants (by position), as the API shows it. */
export async function getOffer(deps: CatalogDeps, id: number) {
  const offer = await deps.prisma.offer.findUnique({
    where: { id },
    include: {
      campaign: { select: { id: true, name: true } },
      variants: { orderBy: [{ position: "asc" }, { id: "asc" }] },
    },
  });
  if (!offer) throw new NotFoundError("offer", id);
  return { ...offer, seeds: offer.seeds as string[] };
}

export async function setSeeds(deps: CatalogDeps, id: number, seeds: string[]) {
  const updated = await deps.prisma.offer.updateMany({ where: { id }, data: { seeds } });
  if (updated.count === 0) throw new NotFoundError("offer", id);
  return getOffer(deps, id);
}
