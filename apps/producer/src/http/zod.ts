import type { FastifyInstance, FastifySchema, FastifyTypeProvider } from "fastify";
import { type ZodType, z } from "zod";
import { RequestValidationError } from "./errors.ts";

// Routes declare zod schemas for params, querystring and body. One validator compiler runs
// them (so handlers get parsed, defaulted values) and one swagger transform turns them into
// JSON Schema for GET /openapi.json, so the documented shape is the enforced shape.

/** Types a route's request parts from its zod schemas (`app.withTypeProvider<...>()`). */
export interface ZodTypeProvider extends FastifyTypeProvider {
  validator: this["schema"] extends ZodType ? z.output<this["schema"]> : unknown;
  serializer: this["schema"] extends ZodType ? z.input<this["schema"]> : unknown;
}

const REQUEST_PARTS = ["body", "params", "querystring", "headers"] as const;

function isZod(value: unknown): value is ZodType {
  return value instanceof z.ZodType;
}

export function useZodValidation(app: FastifyInstance): void {
  app.setValidatorCompiler(({ schema, httpPart }) => {
    if (!isZod(schema)) throw new Error(`route schema for ${httpPart} must be a zod schema`);
    return (data: unknown) => {
      const parsed = schema.safeParse(data);
      if (parsed.success) return { value: parsed.data };
      return { error: RequestValidationError.fromZod(parsed.error, httpPart ?? "body") };
    };
  });
}

/** The JSON Schema of a zod schema as a client sends it (input side of transforms). */
export function toJsonSchema(schema: ZodType): Record<string, unknown> {
  const { $schema: _dialect, ...json } = z.toJSONSchema(schema, {
    io: "input",
    unrepresentable: "any",
    target: "draft-7",
  });
  return json;
}

/** @fastify/swagger `transform`: zod request schemas become JSON Schema in the document. */
export function zodSwaggerTransform({ schema, url }: { schema: FastifySchema; url: string }) {
  if (!schema) return { schema, url };
  const transformed: Record<string, unknown> = { ...schema };
  for (const part of REQUEST_PARTS) {
    const value = schema[part];
    if (isZod(value)) transformed[part] = toJsonSchema(value);
  }
  return { schema: transformed as FastifySchema, url };
}
