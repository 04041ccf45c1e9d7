import type { LuxSciAdapter } from "@luxrelay/channels";
import type { PrismaClient } from "@luxrelay/db";
import type { Logger } from "@luxrelay/logger";
import type { FlowProducer, Queue } from "bullmq";
import type pg from "pg";
import type { SettleRule } from "./send/settle.ts";

// What the outbound services need, built once by an app (docs/architecture.md "Code style" 1:
// apps wire, packages work).

export interface OutboundDeps {
  prisma: PrismaClient;
  /** Plain pg pool for COPY and the hot-path SQL. */
  pool: pg.Pool;
  queues: { plan: Queue; send: Queue; finalize: Queue };
  flow: FlowProducer;
  logger: Logger;
  /** LuxSci behind the channel adapter: its clients (cached per channel and its last update). */
  luxsci: LuxSciAdapter;
  /** Where uploaded audiences live (shared by producer and workers). */
  stateDir: string;
  /**
   * AUDIENCE_MAX_BYTES: the largest upload; AUDIENCE_MAX_RECORD_BYTES: the longest audience
   * record (CSV record, NDJSON line, table row) read; AUDIENCE_TABLES: the tables an audience
   * may be read from.
   */
  audience: { maxBytes: number; maxRecordBytes: number; tables: readonly string[] };
  /** Per-recipient send attempts default when a channel says nothing (config). */
  defaults: { batchSize: number };
  /** First backoff step of a send job (LUXSCI_RETRY_BASE_MS). */
  retryBaseMs: number;
  /** When an unknown send outcome is settled (LUXSCI_REPORT_LAG_MS, LUXSCI_TIMEOUT_MS). */
  settle: SettleRule;
}
