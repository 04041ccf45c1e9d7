import type { Readable } from "node:stream";
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import { AUDIENCE_FORMATS, saveAudience, type TAudienceFormat } from "../catalog/audiences.ts";
import { AudienceTooLargeError } from "../catalog/errors.ts";
import { RequestValidationError } from "../http/errors.ts";
import { type RouteDeps, typed } from "./context.ts";

const FORMAT_OF_TYPE: Record<string, TAudienceFormat> = {
  "text/csv": "csv",
  "application/x-ndjson": "ndjson",
};

const ZUploadQuery = z.object({ format: z.enum(AUDIENCE_FORMATS).optional() });

export async function audienceRoutes(base: FastifyInstance, { catalog, outbound }: RouteDeps) {
  const app = typed(base);
  // Scoped to this plugin: the request stream is handed to the route as it arrives. fastify's
  // bodyLimit only covers parsers that buffer the body: AUDIENCE_MAX_BYTES is enforced on this
  // stream by saveAudience, as it is written.
  app.addContentTypeParser(
    ["text/csv", "application/x-ndjson", "application/octet-stream"],
    (_request, payload, done) => done(null, payload),
  );
  app.post(
    "/audiences",
    {
      schema: {
        tags: ["audiences"],
        summary: "Upload an audience (CSV with a header line, or NDJSON), streamed to disk",
        description:
          "Body: the raw file, content-type text/csv, application/x-ndjson or " +
          "application/octet-stream (then ?format= is required). Returns the audience to " +
          "pass to POST /executions (or its id as audienceFile) and the number of rows. " +
          "413 over AUDIENCE_MAX_BYTES; 400 for an audience with no rows or no email column.",
        querystring: ZUploadQuery,
      },
    },
    async (request, reply) => {
      const mediaType = (request.headers["content-type"] ?? "").split(";")[0]?.trim() ?? "";
      const format = request.query.format ?? FORMAT_OF_TYPE[mediaType.toLowerCase()];
      if (!format) {
        throw new RequestValidationError("format", "format: expected csv or ndjson (?format=)");
      }
      const length = request.headers["content-length"];
      const saved = await saveAudience(
        { stateDir: catalog.stateDir, audience: outbound.audience },
        request.body as Readable,
        format,
        length === undefined ? undefined : Number(length),
      ).catch((error: unknown) => {
        // The rest of the body is not read: the connection ends with the reply.
        if (error instanceof AudienceTooLargeError) reply.header("connection", "close");
        throw error;
      });
      request.log.info(
        { audienceId: saved.id, format, rows: saved.rows, bytes: saved.bytes },
        "audience uploaded",
      );
      return reply.code(201).send(saved);
    },
  );
}
