import { JOB_NAMES, realtimeJobId, type TRealtimePayload, ZRealtimePayload } from "@luxrelay/jobs";
import { NotFoundError, rollbackOffer } from "@luxrelay/outbound";
import type { Job, Queue } from "bullmq";
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import { type RouteDeps, typed, ZNumericId } from "./context.ts";

// Realtime sends (issue 7): `POST /realtime/{offer}` queues one job per contact and answers
// once they are in Redis; a repeated idempotency key adds nothing and answers the first
// request's jobs. `POST /offers/{id}/rollback` deletes the offer's realtime templates.

const tags = ["realtime"];

const ZRealtimeRequest = z.object({
  channelId: ZRealtimePayload.shape.channelId,
  idempotencyKey: ZRealtimePayload.shape.idempotencyKey,
  contacts: z.array(ZRealtimePayload.shape.contact).min(1).max(1000),
});

/** Jobs are kept this long after they end: the window in which a repeated key is recognised. */
const KEEP_SECONDS = 7 * 86_400;

async function view(job: Job) {
  return {
    jobId: job.id,
    state: await job.getState(),
    result: job.returnvalue ?? null,
    error: job.failedReason ?? null,
  };
}

export function realtimeRoutes(realtime: Queue | undefined) {
  return async (base: FastifyInstance, { outbound }: RouteDeps) => {
    const app = typed(base);
    app.post(
      "/realtime/:id",
      {
        schema: {
          tags,
          summary: "Send the offer now to up to 1000 contacts (idempotent per key)",
          params: ZNumericId,
          body: ZRealtimeRequest,
        },
      },
      async (request, reply) => {
        if (!realtime)
          return reply.code(503).send({ error: { message: "no realtime queue configured" } });
        const offerId = request.params.id;
        const { channelId, idempotencyKey, contacts } = request.body;
        const offer = await outbound.prisma.offer.findUnique({
          where: { id: offerId },
          select: { id: true },
        });
        if (!offer) throw new NotFoundError("offer", offerId);
        const channel = await outbound.prisma.channel.findUnique({
          where: { id: channelId },
          select: { id: true },
        });
        if (!channel) throw new NotFoundError("channel", channelId);
        // Several contacts under one key: each is part n of it (`<key>~<n>`), never a key of
        // its own that a single-contact request could also send.
        const parts = contacts.map((_, i) => (contacts.length === 1 ? undefined : i + 1));
        const ids = parts.map((part) => realtimeJobId(offerId, idempotencyKey, part));
        const existing = await Promise.all(ids.map((id) => realtime.getJob(id)));
        const fresh = contacts
          .map((contact, i) => ({ contact, i }))
          .filter(({ i }) => !existing[i]);
        await realtime.addBulk(
          fresh.map(({ contact, i }) => {
            const part = parts[i];
            const data: TRealtimePayload = {
              offerId,
              channelId,
              idempotencyKey,
              ...(part === undefined ? {} : { part }),
              contact,
            };
            return {
              name: JOB_NAMES.realtime,
              data,
              opts: {
                jobId: ids[i],
                attempts: 10,
                backoff: { type: "exponential", delay: 1000, jitter: 0.2 },
                removeOnComplete: { age: KEEP_SECONDS },
                removeOnFail: { age: KEEP_SECONDS },
              },
            };
          }),
        );
        const jobs = await Promise.all(
          ids.map(async (id) => {
            const job = await realtime.getJob(id);
            return job ? view(job) : { jobId: id, state: "unknown", result: null, error: null };
          }),
        );
        return reply.code(fresh.length > 0 ? 202 : 200).send({
          realtime: { accepted: fresh.length, repeated: contacts.length - fresh.length, jobs },
        });
      },
    );
    app.get(
      "/realtime-jobs/:id",
      {
        schema: {
          tags,
          summary: "A realtime job: state and result (sendmail id, chid)",
          params: z.object({ id: z.string().regex(/^rt-\d+-[A-Za-z0-9_.-]+(~\d+)?$/) }),
        },
      },
      async (request) => {
        const job = realtime ? await realtime.getJob(request.params.id) : undefined;
        if (!job) throw new NotFoundError("realtime job", request.params.id);
        return { job: await view(job) };
      },
    );
    app.post(
      "/offers/:id/rollback",
      {
        schema: {
          tags,
          summary: "Delete the offer's realtime (QL) templates at LuxSci",
          params: ZNumericId,
        },
      },
      async (request) => ({ rollback: await rollbackOffer(outbound, request.params.id) }),
    );
  };
}
