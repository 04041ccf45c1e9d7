import { withConnection } from "@luxrelay/db";
import type { ReportKind } from "@luxrelay/luxsci";
import type pg from "pg";
import { copyStagedEvents } from "./copy-stage.ts";
import { createWallClock } from "./dates.ts";
import { mapReportRow, ORDINAL, type StagedEvent } from "./map-row.ts";
import { OccurrenceCounter } from "./occurrences.ts";
import {
  createStageTable,
  findRepeatableKinds,
  findTrackedExecutions,
  hasRepeatedEvents,
  insertNewEvents,
  lockChannelImports,
} from "./stage.ts";
import type { ImportResult, InboundDeps, RowProblem, SourcedRow } from "./types.ts";

// Seed 000 inbound steps 6-7 for one report page or export file: rows are mapped and checked
// in a single streaming pass straight into COPY (nothing is held in memory), then one
// set-based INSERT stores the new events in email_event. What follows from new events (offer
// history, suppression, engagement, the events stream) is applyNewEvents' (apply/), which
// reads them from email_event afterwards, once for any number of imports. Idempotent:
// importing the same rows again inserts no event.

/** Problems kept in a result; the rest are only counted. */
export const MAX_REPORTED_PROBLEMS = 1000;
// Enough memory for the repeat check's hash over a million staged keys to stay in memory.
const IMPORT_WORK_MEM = "64MB";

export interface ImportReportRowsInput {
  channelId: string;
  kind: ReportKind;
  rows: AsyncIterable<SourcedRow> | Iterable<SourcedRow>;
  /** Where the rows come from, for problems and logs: "file 1689671756-1485-20872.csv". */
  source: string;
  /**
   * null/undefined: report dates are GMT (LuxSci's default); otherwise the IANA zone they are
   * written in (the channel's event timezone override: the server's zone).
   */
  timezone?: string | null;
  /**
   * Counts identical opens and clicks across the imports of one read of a report (an API
   * report's pages, imported a few at a time), so that their ordinals go on from one import
   * to the next. Default: a counter of this import's own (an export file is one read).
   */
  occurrences?: OccurrenceCounter;
  /**
   * How many rows the source should hold (an export's completed_rows in LuxSci's /jobs): with
   * fewer the import stores nothing and throws ReportIncompleteError (a file cut short).
   */
  expectedRows?: number | null;
}

/** The source held fewer rows than expected: nothing of it was stored. */
export class ReportIncompleteError extends Error {
  override name = "ReportIncompleteError";
}

class Tally {
  offered = 0;
  notOurs = 0;
  rejected = 0;
  maxOccurredMs = Number.NEGATIVE_INFINITY;
  readonly problems: RowProblem[] = [];
  /** Staged rows per "<executionId>_<offerId>": which executions to look up in tracking. */
  readonly rowsByExecution = new Map<string, { executionId: number; rows: number }>();

  constructor(private readonly source: string) {}

  reject(line: number, field: string, message: string): void {
    this.rejected++;
    if (this.problems.length < MAX_REPORTED_PROBLEMS) {
      this.problems.push({ source: this.source, line, field, message });
    }
  }

  sawDate(ms: number): void {
    if (ms > this.maxOccurredMs) this.maxOccurredMs = ms;
  }
}

/** Maps each row, rejecting or counting it, and emits the events of those that are ours. */
async function stageRows(
  input: ImportReportRowsInput,
  tally: Tally,
  emit: (event: StagedEvent) => void | Promise<void>,
): Promise<void> {
  const clock = createWallClock(input.timezone);
  const occurrences = input.occurrences ?? new OccurrenceCounter();
  const repeatable = input.kind === "opens" || input.kind === "clicks";
  const stage = (sourced: SourcedRow): void | Promise<void> => {
    tally.offered++;
    if (sourced.defect) {
      tally.reject(sourced.line, sourced.defect.field, sourced.defect.message);
      return;
    }
    const mapped = mapReportRow(input.kind, sourced.row, input.channelId, clock);
    if (mapped.outcome === "problem") {
      tally.reject(sourced.line, mapped.field, mapped.message);
      return;
    }
    tally.sawDate(mapped.occurredMs);
    if (mapped.outcome === "notOurs") {
      tally.notOurs++;
      return;
    }
    const [first, second] = mapped.events as [StagedEvent, StagedEvent?];
    if (repeatable)
      first[ORDINAL] = occurrences.next(first[0], first[2], first[11], first[12], first[10]);
    const key = `${first[4]}_${first[5]}`;
    const seen = tally.rowsByExecution.get(key);
    if (seen) seen.rows++;
    else tally.rowsByExecution.set(key, { executionId: first[4], rows: 1 });
    const flushing = emit(first);
    if (second === undefined) return flushing;
    return flushing ? flushing.then(() => emit(second)) : emit(second);
  };
  // A page already in memory is walked without an await per row; a file is read as it goes.
  if (Symbol.asyncIterator in input.rows) {
    for await (const sourced of input.rows) await stage(sourced);
  } else {
    for (const sourced of input.rows) {
      const flushing = stage(sourced);
      if (flushing) await flushing;
    }
  }
}

/** Rows whose chid names this channel but an execution/offer it has no tracking row for. */
async function countUntracked(client: pg.ClientBase, channelId: string, tally: Tally) {
  if (tally.rowsByExecution.size === 0) return 0;
  const executionIds = [...new Set([...tally.rowsByExecution.values()].map((e) => e.executionId))];
  const tracked = await findTrackedExecutions(client, channelId, executionIds);
  let untracked = 0;
  for (const [key, { rows }] of tally.rowsByExecution) {
    if (!tracked.has(key)) untracked += rows;
  }
  return untracked;
}

/**
 * Imports one page or file of `kind` report rows for a channel. Rows that can't be read or
 * lack what an event needs are rejected with source, line and field; the rest are imported.
 * Throws, and stores nothing, only when the database fails, the timezone is unknown or the
 * source can't be read at all (ReportFileError: an export file without a usable header).
 */
export async function importReportRows(
  deps: InboundDeps,
  input: ImportReportRowsInput,
): Promise<ImportResult> {
  createWallClock(input.timezone); // an unknown zone fails here, before a connection is taken
  const started = performance.now();
  const tally = new Tally(input.source);
  let inserted = 0;
  // Milliseconds per phase, logged: where an import's time goes.
  const phases: Record<string, number> = {};
  let mark = started;
  const lap = (phase: string) => {
    const now = performance.now();
    phases[phase] = Math.round(now - mark);
    mark = now;
  };
  // On a failure withConnection closes the connection: that aborts the transaction and drops
  // the temp tables, whatever state the failure left them in.
  await withConnection(deps.pool, async (client) => {
    await client.query("BEGIN");
    // JIT compiling costs more than it saves on these one-pass statements (PostgreSQL turns
    // it on from the staging table's row estimate). The COMMIT waits for its WAL to be flushed,
    // as usual: once this returns, the events are durable, so the watermark may pass them and
    // the apply step may publish them (asynchronous commit saved nothing measurable here: the
    // WAL writer has flushed nearly all of a large import's WAL by its COMMIT).
    await client.query(`SET LOCAL work_mem = '${IMPORT_WORK_MEM}'; SET LOCAL jit = off`);
    await createStageTable(client);
    const staged = await copyStagedEvents(client, (emit) => stageRows(input, tally, emit));
    if (input.expectedRows != null && tally.offered < input.expectedRows) {
      // Thrown before COMMIT: withConnection closes the connection, the transaction aborts.
      throw new ReportIncompleteError(
        `${input.source}: ${tally.offered} rows, ${input.expectedRows} expected: cut short`,
      );
    }
    tally.notOurs += await countUntracked(client, input.channelId, tally);
    // Nothing staged (the last, empty read of a report; rows all rejected or not ours): no
    // need to wait for the channel's lock.
    if (staged > 0) {
      const staging = {
        repeated: await hasRepeatedEvents(client),
        repeatableKinds: await findRepeatableKinds(client),
      };
      lap("stageMs");
      await lockChannelImports(client, input.channelId);
      lap("lockMs");
      inserted = await insertNewEvents(client, input.channelId, staging);
      lap("insertMs");
    } else {
      lap("stageMs");
    }
    await client.query("COMMIT");
    lap("commitMs");
  });

  const result: ImportResult = {
    offered: tally.offered,
    inserted,
    notOurs: tally.notOurs,
    rejected: tally.rejected,
    problems: tally.problems,
    maxOccurredAt: Number.isFinite(tally.maxOccurredMs) ? new Date(tally.maxOccurredMs) : null,
  };
  deps.logger.info(
    {
      channelId: input.channelId,
      kind: input.kind,
      source: input.source,
      offered: result.offered,
      inserted,
      notOurs: result.notOurs,
      rejected: result.rejected,
      ms: Math.round(performance.now() - started),
      ...phases,
    },
    "report rows imported",
  );
  return result;
}
