import { randomBytes } from "node:crypto";

// Every queue key lives under a prefix per environment (QUEUE_PREFIX), so several
// deployments, or parallel test files, share one Redis without seeing each other's jobs.
// Wrap it in {braces} to pin all of a deployment's keys to one Redis Cluster slot.

/** A fresh prefix for one test file: its queues are invisible to every other test. */
export function uniqueQueuePrefix(base = "lrtest"): string {
  return `${base}-${randomBytes(6).toString("hex")}`;
}
