import { type Job, UnrecoverableError } from "bullmq";

// Payloads are parsed at the worker door (docs/architecture.md "Code style" 2): a malformed one
// fails for good.

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

/**
 * For a send handler: renews the job's lock for the call to come and says whether this run
 * still holds it (false once it lapsed: the job may be running again elsewhere).
 */
export function lockRenewer(job: Job, token: string | undefined, lockMs: number) {
  return async (): Promise<boolean> =>
    token !== undefined && (await job.extendLock(token, lockMs)) === 1;
}
