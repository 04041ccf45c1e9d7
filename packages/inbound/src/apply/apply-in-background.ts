import { withConnection } from "@luxrelay/db";
import type { InboundDeps } from "../import/types.ts";
import {
  APPLY_BATCH_EVENTS,
  type ApplyResult,
  applyNewEvents,
  beginReading,
  type PendingSums,
  phaseClock,
  readAhead,
  writeSums,
} from "./apply-events.ts";

// A sync that imports many pages applies their events while it goes on importing: as each
// import commits, its events are read back, published to the stream and summed (Redis and
// mostly PostgreSQL's other core), beside the next import (parsing, mostly Node, then its
// INSERT). The sums are written once, at the end: offer history and engagement get one write
// per recipient for the whole sync (repeated UPDATEs of the same rows cost far more than the
// one INSERT or UPDATE). One read at a time; imports that commit during one are read by the
// next.

export interface BackgroundApply {
  /** Some events were stored: read them soon (now, or after the read that is running). */
  nudge(): void;
  /**
   * Reads the rest, writes the sums and waits for all; returns the totals, or throws the first
   * failure (reading stops at one: the cursor stays, the next apply reads from there).
   */
  finish(): Promise<ApplyResult>;
}

export function applyInBackground(
  deps: InboundDeps,
  channelId: string,
  /** Events summed per write (tests use a few). */
  batchEvents = APPLY_BATCH_EVENTS,
): BackgroundApply {
  const { phases, lap } = phaseClock();
  const started = performance.now();
  let pending: PendingSums | null = null;
  let running: Promise<void> | null = null;
  let again = false;
  let failure: { error: unknown } | null = null;
  const result: ApplyResult = { applied: 0, published: 0 };

  /** Reads what was committed since the last read; writes the sums when they are many. */
  async function readCommitted(): Promise<void> {
    await withConnection(deps.pool, async (client) => {
      for (;;) {
        const reading = pending ?? (await beginReading(client, deps, channelId, batchEvents));
        pending = reading;
        const exhausted = await readAhead(client, deps, channelId, reading, true);
        lap("readMs");
        if (exhausted) break;
        // A full batch: write it, then read on (the batch's limit may have left events unread).
        await write(client, reading);
      }
    });
  }

  async function write(client: Parameters<typeof writeSums>[0], sums: PendingSums) {
    pending = null;
    result.published += sums.published;
    if (await writeSums(client, channelId, sums, lap)) {
      result.applied += sums.sums.events;
    } else {
      // Another apply wrote these events meanwhile: start over from its cursor.
      const redone = await applyNewEvents(deps, channelId, batchEvents);
      result.applied += redone.applied;
      result.published += redone.published;
    }
  }

  async function run(): Promise<void> {
    do {
      again = false;
      try {
        await readCommitted();
      } catch (error) {
        failure = { error };
      }
    } while (again && failure === null);
    running = null;
  }

  function nudge(): void {
    if (failure !== null) return;
    if (running !== null) again = true;
    else running = run();
  }

  return {
    nudge,
    async finish() {
      nudge();
      while (running !== null) await running;
      if (failure !== null) throw failure.error;
      const last = pending;
      if (last !== null) await withConnection(deps.pool, (client) => write(client, last));
      deps.logger.info(
        { channelId, ...result, ms: Math.round(performance.now() - started), ...phases },
        "new events applied",
      );
      return result;
    },
  };
}
