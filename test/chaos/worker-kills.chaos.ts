import { mulberry32 } from "@luxrelay/luxsci-sim";
import { createExecution } from "@luxrelay/outbound";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeContacts, writeCsv } from "../helpers/audience.ts";
import { createOfferFixture, type Stack, startStack, waitForExecution } from "../helpers/stack.ts";
import { spawnWorker, type WorkerChild } from "../helpers/worker-process.ts";
import { expectExactlyOnce, recordFigures, sleep } from "./helpers.ts";

// Chaos: a send worker SIGKILLed at random moments, 20 times, during a 50,000-recipient
// execution, and started again each time. Each LuxSci call takes a second and the sent report
// shows a send a second after it was accepted, so almost every kill lands mid-call, with calls
// the dead worker made still to show in the report when its batches are taken over.

const KILLS = 20;
const RECIPIENTS = 50_000;
const SEED = 2026;

let stack: Stack;

beforeAll(async () => {
  stack = await startStack({
    simSeed: 71,
    keepMergedMessages: 0,
    sim: { reportLagMs: 1_000 },
    env: {
      LUXSCI_TIMEOUT_MS: "3000",
      LUXSCI_REPORT_LAG_MS: "2000",
      WORKER_CONCURRENCY_SEND: "4",
      WORKER_LOCK_MS: "3000",
      WORKER_STALLED_INTERVAL_MS: "1000",
      WORKER_MAX_STALLED: "100",
      LOG_LEVEL: "error",
    },
  });
});

afterAll(async () => {
  await stack?.close();
});

describe("chaos: worker kills", () => {
  it(`${KILLS} SIGKILLs of the send worker during a ${RECIPIENTS}-recipient execution: each recipient once`, async () => {
    stack.sim.setFault("POST */email/send", { latencyMs: 1_000 });
    const fixture = await createOfferFixture(stack, {
      variants: [
        { key: "a", subject: "Hi {{ first_name }}", html: "<p>{{ city }}</p>", text: "x" },
      ],
      channel: { batchSize: 250 },
    });
    const started = Date.now();
    let worker: WorkerChild = spawnWorker(stack.env);
    const execution = await createExecution(stack.deps, {
      offerId: fixture.offerId,
      channelId: fixture.channelId,
      audience: { type: "file", path: writeCsv(makeContacts(RECIPIENTS, ["a"])), format: "csv" },
    });
    // Seeded: a run's kill moments can be replayed.
    const random = mulberry32(SEED);
    let kills = 0;
    try {
      while (kills < KILLS) {
        // A moment once the worker is up and sending: 1.5 to 4.5 s after its start.
        await sleep(1_500 + random() * 3_000);
        const status = await stack.deps.prisma.execution.findUniqueOrThrow({
          where: { id: execution.id },
        });
        if (status.status === "completed") break;
        worker.child.kill("SIGKILL");
        await worker.exited;
        kills += 1;
        worker = spawnWorker(stack.env);
      }
      expect(await waitForExecution(stack, execution.id, 600_000)).toBe("completed");
    } finally {
      worker.child.kill("SIGTERM");
      await worker.exited;
      stack.sim.clearFaults();
    }
    expect(kills).toBe(KILLS);
    const figures = await expectExactlyOnce(stack, execution.id, { recipients: RECIPIENTS });
    expect(figures.retriedBatches).toBeGreaterThan(0);
    recordFigures({
      scenario: "send worker SIGKILLed mid-call, restarted each time",
      injected: `${kills} kills at random moments (seed ${SEED}); 1 s per call; sent report lag 1 s`,
      recipients: RECIPIENTS,
      seconds: Math.round((Date.now() - started) / 1000),
      ...figures,
    });
  }, 900_000);
});
