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

/** A serial id in a JSON body: PostgreSQL's int4, so 2^31 is a 400 here, not a 500 later. */
export const ZSerialId = z
  .int()
  .positive()
  .max(2 ** 31 - 1);

/** `:id` of campaigns, offers, executions and batches (serial ids). */
export const ZNumericId = z.object({
  id: z.coerce
    .number()
    .int()
    .positive()
    .max(2 ** 31 - 1),
});
