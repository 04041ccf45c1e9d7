import type { FastifyInstance } from "fastify";
import { createCampaign, listCampaigns, ZCampaignCreate } from "../catalog/campaigns.ts";
import { createOffer, getOffer, setSeeds, ZOfferCreate, ZSeedsPut } from "../catalog/offers.ts";
import { putVariant, ZVariantKey, ZVariantPut } from "../catalog/variants.ts";
import { type RouteDeps, typed, ZNumericId } from "./context.ts";

export async function campaignRoutes(base: FastifyInstance, { catalog }: RouteDeps) {
  const app = typed(base);
  app.post(
    "/campaigns",
    { schema: { tags: ["campaigns"], summary: "Create a campaign", body: ZCampaignCreate } },
    async (request, reply) =>
      reply.code(201).send({ campaign: await createCampaign(catalog, request.body) }),
  );
  app.get(
    "/campaigns",
    { schema: { tags: ["campaigns"], summary: "List campaigns" } },
    async () => ({
      campaigns: await listCampaigns(catalog),
    }),
  );
  app.post(
    "/campaigns/:id/offers",
    {
      schema: {
        tags: ["offers"],
        summary: "Create an offer in a campaign",
        params: ZNumericId,
        body: ZOfferCreate,
      },
    },
    async (request, reply) =>
      reply.code(201).send({ offer: await createOffer(catalog, request.params.id, request.body) }),
  );
  app.get(
    "/offers/:id",
    { schema: { tags: ["offers"], summary: "Show an offer and its variants", params: ZNumericId } },
    async (request) => ({ offer: await getOffer(catalog, request.params.id) }),
  );
  app.put(
    "/offers/:id/variants/:key",
    {
      schema: {
        tags: ["offers"],
        summary: "Create or replace a content variant (nunjucks, validated)",
        params: ZVariantKey,
        body: ZVariantPut,
      },
    },
    async (request) => ({
      variant: await putVariant(catalog, request.params.id, request.params.key, request.body),
    }),
  );
  app.put(
    "/offers/:id/seeds",
    {
      schema: {
        tags: ["offers"],
        summary: "Replace the seed (proof) list",
        params: ZNumericId,
        body: ZSeedsPut,
      },
    },
    async (request) => ({ offer: await setSeeds(catalog, request.params.id, request.body.seeds) }),
  );
}
