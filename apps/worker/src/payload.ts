import { type Job, UnrecoverableError } from "bullmq";

// Payloads are parsed at the worker door (STYLE.md 2): a malformed one fails for good.

interface Schema<T> {
  safeParse(data: unknown): { success: true; data: T } | { success: false; error: Error };
}

export function parsePayload<T>(schema: Schema<T>, job: Job): T {
  const parsed = schema.safeParse(job.data);
  if (!parsed.success) {
    throw new UnrecoverableError(`bad ${job.name} payload: ${parsed.error.message}`);
  }
  return parsed.data;
}
