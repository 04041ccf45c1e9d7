import type { OutboundDeps } from "@luxrelay/outbound";
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import type { CatalogDeps } from "../catalog/context.ts";
import type { ZodTypeProvider } from "../http/zod.ts";

// What every route plugin gets: the outbound services' deps and the catalog's.

export interface RouteDeps {
  outbound: OutboundDeps;
  catalog: CatalogDeps;
}

export function typed(app: FastifyInstance) {
  return app.withTypeProvider<ZodTypeProvider>();
}

/** `:id` of campaigns, offers, executions and batches (serial ids). */
export const ZNumericId = z.object({
  id: z.coerce
    .number()
    .int()
    .positive()
    .max(2 ** 31 - 1),
});
