import { randomUUID } from "node:crypto";
import { createWriteStream } from "node:fs";
import { access, mkdir, rm } from "node:fs/promises";
import { isAbsolute, join, relative, resolve } from "node:path";
import { pipeline } from "node:stream/promises";
import { OutboundInputError, type TAudience, ZAudience } from "@luxrelay/outbound";
import { z } from "zod";
import type { CatalogDeps } from "./context.ts";
import { LineCounter } from "./line-counter.ts";

// Audiences (DESIGN "Outbound" 3): an upload is streamed to the state folder the workers
// share, never held in memory, and counted on the way. An execution names an uploaded file
// (by id or path) or a table already in PostgreSQL.

export const AUDIENCE_FORMATS = ["csv", "ndjson"] as const;
export type TAudienceFormat = (typeof AUDIENCE_FORMATS)[number];

export const ZAudienceFileId = z.uuid({ error: "expected the id of an uploaded audience" });

export function audiencesDir(stateDir: string): string {
  return resolve(stateDir, "audiences");
}

export interface SavedAudience {
  id: string;
  audience: { type: "file"; path: string; format: TAudienceFormat };
  /** Contact rows: non-empty lines, less the header line of a CSV. */
  rows: number;
  bytes: number;
}

/** Streams an upload to `<stateDir>/audiences/<uuid>.<format>`; a broken upload leaves no file. */
export async function saveAudience(
  deps: Pick<CatalogDeps, "stateDir">,
  body: NodeJS.ReadableStream,
  format: TAudienceFormat,
): Promise<SavedAudience> {
  const dir = audiencesDir(deps.stateDir);
  await mkdir(dir, { recursive: true });
  const id = randomUUID();
  const path = join(dir, `${id}.${format}`);
  const counter = new LineCounter();
  try {
    await pipeline(body, counter, createWriteStream(path, { flags: "wx" }));
  } catch (error) {
    await rm(path, { force: true });
    throw error;
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
