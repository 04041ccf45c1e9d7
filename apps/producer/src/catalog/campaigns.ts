import { z } from "zod";
import type { CatalogDeps } from "./context.ts";
import { ConflictError } from "./errors.ts";

// Campaigns group offers; only a name (unique) and a description.

export const ZCampaignCreate = z
  .object({
    name: z.string().trim().min(1).max(200),
    description: z.string().max(2000).nullable().optional(),
  })
  .strict();
export type TCampaignCreate = z.infer<typeof ZCampaignCreate>;

export async function createCampaign(deps: CatalogDeps, input: TCampaignCreate) {
  const existing = await deps.prisma.campaign.findUnique({ where: { name: input.name } });
  if (existing) {
    throw new ConflictError("name", `a campaign named "${input.name}" exists (${existing.id})`);
  }
  return deps.prisma.campaign.create({
    data: { name: input.name, description: input.description ?? null },
  });
}

export async function listCampaigns(deps: CatalogDeps) {
  const campaigns = await deps.prisma.campaign.findMany({
    orderBy: { id: "asc" },
    include: { offers: { select: { id: true, name: true }, orderBy: { id: "asc" } } },
  });
  return campaigns;
}
