import type { FastifyInstance } from "fastify";
import { z } from "zod";
import { AUDIENCE_FORMATS, saveAudience, type TAudienceFormat } from "../catalog/audiences.ts";
import { RequestValidationError } from "../http/errors.ts";
import { type RouteDeps, typed } from "./context.ts";

/** An audience file may hold tens of millions of rows; it streams to disk, never to memory. */
export const AUDIENCE_BODY_LIMIT_BYTES = 10 * 1024 ** 3;

const FORMAT_OF_TYPE: Record<string, TAudienceFormat> = {
  "text/csv": "csv",
  "application/x-ndjson": "ndjson",
};

const ZUploadQuery = z.object({ format: z.enum(AUDIENCE_FORMATS).optional() });

export async function audienceRoutes(base: FastifyInstance, { catalog }: RouteDeps) {
  const app = typed(base);
  // Scoped to this plugin: the request stream is handed to the route as it arrives.
  app.addContentTypeParser(
    ["text/csv", "application/x-ndjson", "application/octet-stream"],
    (_request, payload, done) => done(null, payload),
  );
  app.post(
    "/audiences",
    {
      bodyLimit: AUDIENCE_BODY_LIMIT_BYTES,
      schema: {
        tags: ["audiences"],
        summary: "Upload an audience (CSV with a header line, or NDJSON), streamed to disk",
        description:
          "Body: the raw file, content-type text/csv, application/x-ndjson or " +
          "application/octet-stream (then ?format= is required). Returns the audience to " +
          "pass to POST /executions (or its id as audienceFile) and the number of rows.",
        querystring: ZUploadQuery,
      },
    },
    async (request, reply) => {
      const mediaType = (request.headers["content-type"] ?? "").split(";")[0]?.trim() ?? "";
      const format = request.query.format ?? FORMAT_OF_TYPE[mediaType.toLowerCase()];
      if (!format) {
        throw new RequestValidationError("format", "format: expected csv or ndjson (?format=)");
      }
      const saved = await saveAudience(catalog, request.body as NodeJS.ReadableStream, format);
      request.log.info(
        { audienceId: saved.id, format, rows: saved.rows, bytes: saved.bytes },
        "audience uploaded",
      );
      return reply.code(201).send(saved);
    },
  );
}
