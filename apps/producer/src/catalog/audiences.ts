import { randomUUID } from "node:crypto";
import { createWriteStream } from "node:fs";
import { access, mkdir, rm } from "node:fs/promises";
import { isAbsolute, join, relative, resolve } from "node:path";
import { type Readable, Transform, type TransformCallback } from "node:stream";
import { finished, pipeline } from "node:stream/promises";
import {
  audiencesDir,
  inspectAudienceFile,
  OutboundInputError,
  type TAudience,
  ZAudience,
} from "@luxrelay/outbound";
import { z } from "zod";
import type { CatalogDeps } from "./context.ts";
import { AudienceTooLargeError } from "./errors.ts";
import { LineCounter } from "./line-counter.ts";

// Audiences (docs/architecture.md "Outbound" 3): an upload is streamed to the state folder the
// workers share, never held in memory, and counted on the way. An execution names an uploaded file
// (by id or path) or a table already in PostgreSQL. An upload over AUDIENCE_MAX_BYTES, or
// one the planner could do nothing with (no rows, no email column), is refused and not kept.

export const AUDIENCE_FORMATS = ["csv", "ndjson"] as const;
export type TAudienceFormat = (typeof AUDIENCE_FORMATS)[number];

export const ZAudienceFileId = z.uuid({ error: "expected the id of an uploaded audience" });

export interface SavedAudience {
  id: string;
  audience: { type: "file"; path: string; format: TAudienceFormat };
  /** Contact rows: non-empty lines, less the header line of a CSV. */
  rows: number;
  bytes: number;
}

/** Passes at most `maxBytes` on; one byte more fails the stream with AudienceTooLargeError. */
class ByteLimit extends Transform {
  private bytes = 0;

  constructor(private readonly maxBytes: number) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.bytes > this.maxBytes) callback(new AudienceTooLargeError(this.maxBytes));
    else callback(null, chunk);
  }
}

/**
 * Streams an upload to `<stateDir>/audiences/<uuid>.<format>`, then checks its head. A broken,
 * too large (`declaredBytes`, the content-length, is checked first) or refused upload leaves
 * no file.
 */
export async function saveAudience(
  deps: Pick<CatalogDeps, "stateDir"> & { audience: { maxBytes: number; maxRecordBytes: number } },
  body: Readable,
  format: TAudienceFormat,
  declaredBytes?: number,
): Promise<SavedAudience> {
  const { maxBytes, maxRecordBytes } = deps.audience;
  if (declaredBytes !== undefined && declaredBytes > maxBytes) {
    throw new AudienceTooLargeError(maxBytes);
  }
  const dir = audiencesDir(deps.stateDir);
  await mkdir(dir, { recursive: true });
  const id = randomUUID();
  const path = join(dir, `${id}.${format}`);
  const counter = new LineCounter();
  const limit = new ByteLimit(maxBytes);
  // Piped in, not handed to pipeline(): on a refusal pipeline would destroy the request, and
  // the socket the 413 has to go out on with it. An upload cut off ends the write all the same.
  finished(body).catch((error: Error) => limit.destroy(error));
  body.pipe(limit);
  try {
    await pipeline(limit, counter, createWriteStream(path, { flags: "wx" }));
  } catch (error) {
    body.unpipe(limit);
    await rm(path, { force: true });
    throw error;
  }
  const problem = await inspectAudienceFile(path, format, maxRecordBytes);
  if (problem) {
    await rm(path, { force: true });
    throw new OutboundInputError(problem.field === "email" ? "email" : "body", problem.message);
  }
  const rows = format === "csv" ? Math.max(0, counter.lines - 1) : counter.lines;
  return { id, audience: { type: "file", path, format }, rows, bytes: counter.bytes };
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

/**
 * The audience an execution reads, checked: an uploaded file by id, a file path that must lie
 * inside the audiences folder (a client must not make a worker mail out /etc/passwd), or a
 * table name.
 */
export async function resolveAudience(
  deps: Pick<CatalogDeps, "stateDir">,
  input: { audience?: unknown; audienceFile?: string },
): Promise<TAudience> {
  const dir = audiencesDir(deps.stateDir);
  if (input.audienceFile !== undefined) {
    for (const format of AUDIENCE_FORMATS) {
      const path = join(dir, `${input.audienceFile}.${format}`);
      if (await exists(path)) return { type: "file", path, format };
    }
    throw new OutboundInputError("audienceFile", `no uploaded audience ${input.audienceFile}`);
  }
  const parsed = ZAudience.safeParse(input.audience);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const path = ["audience", ...(issue?.path ?? []).map(String)].join(".");
    throw new OutboundInputError(path, issue?.message ?? "invalid audience");
  }
  const audience = parsed.data;
  if (audience.type === "table") return audience;
  const path = resolve(dir, audience.path);
  const inside = relative(dir, path);
  if (inside === "" || inside.startsWith("..") || isAbsolute(inside)) {
    throw new OutboundInputError("audience.path", `must be a file under ${dir} (upload it first)`);
  }
  if (!(await exists(path))) throw new OutboundInputError("audience.path", "no such file");
  return { type: "file", path, format: audience.format };
}
