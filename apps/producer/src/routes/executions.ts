import { PassThrough } from "node:stream";
import { getExecutionMetrics } from "@luxrelay/inbound";
import {
  cancelExecution,
  createExecution,
  getExecutionStatus,
  openMergeExport,
  pauseExecution,
  reconcileExecutionJobs,
  replayExecution,
  resumeExecution,
  ZAudience,
} from "@luxrelay/outbound";
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import { resolveAudience, ZAudienceFileId } from "../catalog/audiences.ts";
import { ZChannelId } from "../catalog/channels.ts";
import { type RouteDeps, typed, ZNumericId, ZSerialId } from "./context.ts";

const tags = ["executions"];

export const ZExecutionCreate = z
  .object({
    offerId: ZSerialId,
    channelId: ZChannelId.shape.id,
    /** {type:"file",path,format} of an upload, or {type:"table",name}. */
    audience: ZAudience.optional(),
    /** The id POST /audiences returned: shorthand for its file audience. */
    audienceFile: ZAudienceFileId.optional(),
    /** When to send (LuxSci can't schedule: the plan job is delayed until then). */
    sendAt: z.iso.datetime({ offset: true }).optional(),
  })
  .strict()
  .refine((body) => (body.audience === undefined) !== (body.audienceFile === undefined), {
    path: ["audience"],
    error: "give either audience or audienceFile",
  });

export async function executionRoutes(base: FastifyInstance, { outbound, catalog }: RouteDeps) {
  const app = typed(base);
  app.post(
    "/executions",
    {
      schema: {
        tags,
        summary: "Send an offer on a channel, now or at sendAt",
        body: ZExecutionCreate,
      },
    },
    async (request, reply) => {
      const { offerId, channelId, sendAt } = request.body;
      const audience = await resolveAudience(catalog, request.body);
      const execution = await createExecution(outbound, {
        offerId,
        channelId,
        audience,
        sendAt: sendAt ? new Date(sendAt) : null,
      });
      return reply.code(201).send({ execution });
    },
  );
  app.get(
    "/executions/:id",
    { schema: { tags, summary: "Status, counts and log of an execution", params: ZNumericId } },
    async (request) => ({
      execution: {
        ...(await getExecutionStatus(outbound, request.params.id)),
        // Seed 000 inbound step 11: the delivery metrics inbound sync has brought back so far.
        metrics: await getExecutionMetrics(outbound.pool, request.params.id),
      },
    }),
  );
  const controls = [
    ["pause", pauseExecution, "Pause: batch jobs wait until resumed"],
    ["resume", resumeExecution, "Resume a paused execution"],
    ["cancel", cancelExecution, "Cancel: no more batches are sent; templates are cleaned up"],
  ] as const;
  for (const [action, control, summary] of controls) {
    app.post(
      `/executions/:id/${action}`,
      { schema: { tags, summary, params: ZNumericId } },
      async (request) => {
        await control(outbound, request.params.id);
        return { execution: await getExecutionStatus(outbound, request.params.id) };
      },
    );
  }
  app.post(
    "/reconcile",
    {
      schema: {
        tags,
        summary:
          "Re-add the jobs PostgreSQL expects and Redis lacks (plan, send, finalize): after Redis lost keys",
      },
    },
    async () => ({ reconcile: await reconcileExecutionJobs(outbound) }),
  );
  app.post(
    "/executions/:id/replay",
    {
      schema: {
        tags,
        summary: "Re-send the failed batches of an ended execution",
        params: ZNumericId,
      },
    },
    async (request) => ({ replay: await replayExecution(outbound, request.params.id) }),
  );
  app.get(
    "/batches/:id/merge",
    {
      schema: {
        tags,
        summary: "A batch's mail-merge file (CSV): what LuxSci merged, per recipient",
        params: ZNumericId,
      },
    },
    async (request, reply) => {
      const batchId = request.params.id;
      // Opened first (a missing batch or content is a 404): once the CSV streams, the status
      // line is already sent.
      const merge = await openMergeExport(outbound, batchId);
      const out = new PassThrough();
      merge.write(out).catch((error: unknown) => {
        request.log.error({ err: error, batchId }, "mail-merge export failed");
        out.destroy(error as Error);
      });
      return reply
        .type("text/csv; charset=utf-8")
        .header("content-disposition", `attachment; filename="batch-${batchId}-merge.csv"`)
        .send(out);
    },
  );
}
