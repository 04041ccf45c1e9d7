import type { PrismaClient } from "@luxrelay/db";
import type { Logger } from "@luxrelay/logger";
import type { LuxSciClient } from "@luxrelay/luxsci";
import type { ChannelCredentials } from "@luxrelay/outbound";
import type { Queue } from "bullmq";
import type { Redis } from "ioredis";
import type pg from "pg";

// What the inbound sync needs, built once by the worker (STYLE.md 1).

export interface SyncSettings {
  /** Where export files are downloaded before import (STATE_DIR/reports). */
  stateDir: string;
  /** Local report files older than this are swept (seed 000 inbound step 7). */
  fileRetentionDays: number;
  /** Wait before asking again when LuxSci says max export jobs are running (seed: 60 s). */
  maxJobsWaitMs: number;
  /** Between two looks at `/jobs` while an export runs. */
  exportPollMs: number;
  /** Re-read this much before the watermark: late-visible rows are caught, duplicates ignored. */
  overlapMs: number;
  /** Default interval of a channel's scheduled sync. */
  intervalSeconds: number;
}

export interface SyncDeps {
  prisma: PrismaClient;
  pool: pg.Pool;
  redis: Redis;
  queuePrefix: string;
  logger: Logger;
  queues: { reports: Queue; exports: Queue };
  luxsci(channel: ChannelCredentials): LuxSciClient;
  secretKey: Buffer;
  settings: SyncSettings;
}
