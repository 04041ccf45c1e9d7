import { describeFailure, LuxSciError, type LuxSciErrorContext } from "./luxsci-error.ts";

/**
 * Async export refused with HTTP 409 because `max_jobs` exports are already running
 * (seed 000 inbound step 3): the caller waits (60 s) and asks again, up to its retry limit.
 */
export class LuxSciMaxJobsError extends LuxSciError {
  override readonly name = "LuxSciMaxJobsError";
  readonly retryable = true;
  readonly currentJobs: number | undefined;
  readonly maxJobs: number | undefined;

  constructor(context: LuxSciErrorContext & { currentJobs?: number; maxJobs?: number }) {
    super(describeFailure("max export jobs running", context), context);
    this.currentJobs = context.currentJobs;
    this.maxJobs = context.maxJobs;
  }
}
