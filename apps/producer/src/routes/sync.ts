import { JOB_NAMES, jobId, type TSyncPayload } from "@luxrelay/jobs";
import { NotFoundError } from "@luxrelay/outbound";
import type { Queue } from "bullmq";
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import { ZChannelId } from "../catalog/channels.ts";
import { type RouteDeps, typed } from "./context.ts";

// Inbound sync on demand (issue 6): `POST /channels/{id}/sync` queues a run now on the
// reports queue (the reports workers do it); `GET /sync-jobs/{id}` shows its progress.

const tags = ["sync"];

export function syncRoutes(reports: Queue | undefined) {
  return async (base: FastifyInstance, { catalog }: RouteDeps) => {
    const app = typed(base);
    app.post(
      "/channels/:id/sync",
      { schema: { tags, summary: "Sync the channel's events now", params: ZChannelId } },
      async (request, reply) => {
        const channel = await catalog.prisma.channel.findUnique({
          where: { id: request.params.id },
        });
        if (!channel) throw new NotFoundError("channel", request.params.id);
        if (!reports)
          return reply.code(503).send({ error: { message: "no reports queue configured" } });
        const data: TSyncPayload = { channelId: channel.id, reason: "manual" };
        const job = await reports.add(JOB_NAMES.sync, data, {
          jobId: jobId("sync", channel.id, "manual", Date.now()),
          removeOnComplete: { age: 86_400, count: 1_000 },
          removeOnFail: { age: 7 * 86_400, count: 1_000 },
        });
        return reply.code(202).send({ sync: { jobId: job.id, channelId: channel.id } });
      },
    );
    app.get(
      "/sync-jobs/:id",
      {
        schema: {
          tags,
          summary: "A sync run: state, progress, result",
          params: z.object({ id: z.string().regex(/^sync-[0-9a-f]{32}-manual-\d+$/) }),
        },
      },
      async (request) => {
        const job = reports ? await reports.getJob(request.params.id) : undefined;
        if (!job) throw new NotFoundError("sync job", request.params.id);
        return {
          sync: {
            jobId: job.id,
            state: await job.getState(),
            progress: job.progress,
            result: job.returnvalue ?? null,
            error: job.failedReason ?? null,
          },
        };
      },
    );
  };
}
