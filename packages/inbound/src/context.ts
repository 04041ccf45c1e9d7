import type { LuxSciAdapter } from "@luxrelay/channels";
import type { PrismaClient } from "@luxrelay/db";
import type { Logger } from "@luxrelay/logger";
import type { Queue } from "bullmq";
import type { Redis } from "ioredis";
import type pg from "pg";

// What the inbound sync needs, built once by the worker (docs/architecture.md "Code style" 1).

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
  /**
   * The longest LuxSci may take to show an event in its reports (LUXSCI_REPORT_LAG_MS): a
   * watermark never passes LuxSci's time of the read less this.
   */
  reportLagMs: number;
  /** How often a report is re-scanned (read from the watermark less rescanWindowMs). */
  rescanIntervalMs: number;
  /** How far before the watermark a re-scan reads: rows LuxSci shows later than the overlap. */
  rescanWindowMs: number;
  /** An SFTP connection silent this long (a server that stopped mid-download) is given up. */
  sftpTimeoutMs: number;
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
  /** LuxSci behind the channel adapter (packages/channels). */
  luxsci: LuxSciAdapter;
  /** SECRET_KEY: decrypts the channel's SFTP password. */
  secretKey: Buffer;
  /** SECRET_KEY_PREVIOUS: still accepted while a rotation is under way. */
  previousSecretKeys?: readonly Buffer[];
  settings: SyncSettings;
}
