import type { FastifyInstance } from "fastify";
import { testChannel } from "../catalog/channel-test.ts";
import {
  createChannel,
  getChannel,
  listChannels,
  updateChannel,
  ZChannelCreate,
  ZChannelId,
  ZChannelUpdate,
} from "../catalog/channels.ts";
import { type RouteDeps, typed } from "./context.ts";

const tags = ["channels"];

export async function channelRoutes(base: FastifyInstance, { outbound, catalog }: RouteDeps) {
  const app = typed(base);
  app.post(
    "/channels",
    { schema: { tags, summary: "Create a channel (LuxSci credentials)", body: ZChannelCreate } },
    async (request, reply) =>
      reply.code(201).send({ channel: await createChannel(catalog, request.body) }),
  );
  app.get("/channels", { schema: { tags, summary: "List channels" } }, async () => ({
    channels: await listChannels(catalog),
  }));
  app.get(
    "/channels/:id",
    { schema: { tags, summary: "Show a channel", params: ZChannelId } },
    async (request) => ({ channel: await getChannel(catalog, request.params.id) }),
  );
  app.patch(
    "/channels/:id",
    {
      schema: { tags, summary: "Change a channel", params: ZChannelId, body: ZChannelUpdate },
    },
    async (request) => ({
      channel: await updateChannel(catalog, request.params.id, request.body),
    }),
  );
  app.post(
    "/channels/:id/test",
    {
      schema: {
        tags,
        summary: "Connectivity test: LuxSci auth + GET /profile; SFTP login (pins its host key)",
        params: ZChannelId,
      },
    },
    async (request) => ({ test: await testChannel(outbound, catalog, request.params.id) }),
  );
}
