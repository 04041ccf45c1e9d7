import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  createExecution,
  getExecutionStatus,
  planExecution,
  RealtimeSender,
  sendBatch,
} from "@luxrelay/outbound";
import { startWorkers, type WorkerProcess } from "@luxrelay/worker";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createOfferFixture,
  type OfferFixture,
  type Stack,
  startStack,
  waitForExecution,
} from "./helpers/stack.ts";

// Issue 14, end to end: a recipient whose data breaks the rules of the render (a line break
// in the subject: header injection; a merged subject over LuxSci's 1000 characters; a
// template that runs away on its data) fails alone with the reason, and every other recipient
// of its batch reaches LuxSci (the simulator's ledger). Planning, realtime sends, and the send
// of slot values stored before the render checked them.

const INJECTION = "Ann\r\nBcc: victim@evil.example";

let stack: Stack;
let worker: WorkerProcess | undefined;
let fixture: OfferFixture;

beforeAll(async () => {
  stack = await startStack();
  worker = await startWorkers(stack.config, stack.logger);
  fixture = await createOfferFixture(stack, {
    variants: [
      {
        key: "a",
        subject: "Hi {{ first_name }}",
        // n from the contact: 2 is four dots; 5000 is 25 million loop iterations.
        html: "<p>Hi {{ first_name }}</p><p>{% for a in range(n) %}{% for b in range(n) %}.{% endfor %}{% endfor %}</p>",
        text: "Hi {{ first_name }}",
      },
    ],
  });
});

afterAll(async () => {
  await worker?.stop();
  await stack?.close();
});

function writeNdjson(rows: Record<string, unknown>[]): string {
  const path = join(mkdtempSync(join(tmpdir(), "lr-render-limits-")), "audience.ndjson");
  writeFileSync(path, rows.map((row) => `${JSON.stringify(row)}\n`).join(""));
  return path;
}

const AUDIENCE = [
  { contact_id: "ok1", email: "ok1@x.example", first_name: "Bo", n: 2 },
  { contact_id: "inject", email: "inject@x.example", first_name: INJECTION, n: 2 },
  { contact_id: "long", email: "long@x.example", first_name: "x".repeat(998), n: 2 },
  { contact_id: "loops", email: "loops@x.example", first_name: "Cy", n: 5000 },
  { contact_id: "ok2", email: "ok2@x.example", first_name: "Di", n: 3 },
];

describe("render limits end to end", () => {
  it("fails only the recipients whose render breaks a limit; the batch is sent", async () => {
    stack.sim.reset();
    const started = performance.now();
    const execution = await createExecution(stack.deps, {
      offerId: fixture.offerId,
      channelId: fixture.channelId,
      audience: { type: "file", path: writeNdjson(AUDIENCE), format: "ndjson" },
    });
    expect(await waitForExecution(stack, execution.id, 30_000)).toBe("completed");
    // The runaway recipient cost at most its time budget, not the 25 million iterations.
    expect(performance.now() - started).toBeLessThan(15_000);

    const status = await getExecutionStatus(stack.deps, execution.id);
    const planned = status.log.find((entry) => entry.message.startsWith("planned"));
    const problems = (planned?.data as { invalidRows?: unknown[] } | undefined)?.invalidRows;
    expect(problems).toEqual([
      {
        row: 2,
        field: "template",
        message: expect.stringMatching(/^subject: the subject holds a line break \(CR or LF\)/),
      },
      {
        row: 3,
        field: "template",
        message: "subject: the subject is 1001 characters once merged, over the limit of 1000",
      },
      {
        row: 4,
        field: "template",
        message: expect.stringMatching(
          /^html line 1: the template (went over 100000 steps|exceeded its time budget of 250 ms)/,
        ),
      },
    ]);
    expect(status.audience).toMatchObject({ invalid: 3 });

    const chidOf = (contactId: string) =>
      `${execution.id}_${fixture.offerId}_${fixture.channelId}_${contactId}`;
    expect(stack.sim.ledger()).toMatchObject({ total: 2, duplicates: 0 });
    const sent = stack.sim.ledgerEntries({ chids: ["ok1", "ok2"].map(chidOf) });
    expect(sent.map((entry) => entry.subject).sort()).toEqual(["Hi Bo", "Hi Di"]);
    expect(stack.sim.ledgerEntries({ chids: ["inject", "long", "loops"].map(chidOf) })).toEqual([]);
    const [ok2] = stack.sim.ledgerEntries({ chids: [chidOf("ok2")] });
    expect(stack.sim.mergedMessage(ok2?.sendmailId as string)?.html).toBe(
      "<p>Hi Di</p><p>.........</p>",
    );
  });

  it("realtime: the same recipients fail their own job with the reason, the others are sent", async () => {
    stack.sim.reset();
    const sender = new RealtimeSender(stack.deps, { flushMs: 50, maxBatch: 1000 });
    const results = await Promise.allSettled(
      AUDIENCE.map(({ contact_id, email, ...attributes }) =>
        sender.send({
          offerId: fixture.offerId,
          channelId: fixture.channelId,
          idempotencyKey: `limits-${contact_id}`,
          contact: { email, contactId: contact_id, attributes },
        }),
      ),
    );
    await sender.drain();
    const outcome = results.map((result) =>
      result.status === "fulfilled" ? result.value.status : String(result.reason.message),
    );
    expect(outcome[0]).toBe("sent");
    expect(outcome[1]).toMatch(/^template: subject: the subject holds a line break/);
    expect(outcome[2]).toMatch(/^template: subject: the subject is 1001 characters/);
    expect(outcome[3]).toMatch(/^template: html line 1: the template (went over|exceeded)/);
    expect(outcome[4]).toBe("sent");
    expect(stack.sim.ledger()).toMatchObject({ total: 2, duplicates: 0 });
  });

  it("a subject slot value stored with a line break is not sent: that recipient fails alone", async () => {
    // Slot values planned before the render refused line breaks (an older execution, then
    // sent or replayed): the send looks at them again. No worker: plan and send are called.
    await worker?.stop();
    worker = undefined;
    stack.sim.reset();
    const execution = await createExecution(stack.deps, {
      offerId: fixture.offerId,
      channelId: fixture.channelId,
      audience: {
        type: "file",
        path: writeNdjson([AUDIENCE[0], AUDIENCE[4]] as Record<string, unknown>[]),
        format: "ndjson",
      },
    });
    await planExecution(stack.deps, execution.id);
    const stored = await stack.deps.pool.query(
      `UPDATE recipient SET slot_data = jsonb_set(slot_data, '{s0}', to_jsonb($2::text))
       WHERE execution_id = $1 AND contact_id = 'ok1' RETURNING batch_seq`,
      [execution.id, INJECTION],
    );
    expect(stored.rowCount).toBe(1);
    const [batch] = await stack.deps.prisma.batch.findMany({
      where: { executionId: execution.id },
    });
    const control = { attemptsMade: 0, attempts: 1, delay: async () => new Error("delayed") };
    const result = await sendBatch(
      stack.deps,
      { executionId: execution.id, batchId: batch?.id as number },
      control,
    );
    expect(result).toMatchObject({ outcome: "sent", sent: 1 });
    // Run again (at-least-once): nothing more is sent, nothing logged twice.
    await sendBatch(
      stack.deps,
      { executionId: execution.id, batchId: batch?.id as number },
      control,
    );

    const recipients = await stack.deps.prisma.recipient.findMany({
      where: { executionId: execution.id },
      orderBy: { contactId: "asc" },
      select: { contactId: true, state: true },
    });
    expect(recipients).toEqual([
      { contactId: "ok1", state: "failed" },
      { contactId: "ok2", state: "sent" },
    ]);
    expect(stack.sim.ledger()).toMatchObject({ total: 1 });
    expect(stack.sim.ledgerEntries({}).map((entry) => entry.subject)).toEqual(["Hi Di"]);
    const logged = await stack.deps.prisma.interactionLog.findMany({
      where: { executionId: execution.id, level: "warn" },
    });
    expect(logged).toHaveLength(1);
    expect(logged[0]?.message).toMatch(
      /^1 recipients of batch 1 not sent: the subject holds a line break/,
    );
    expect(logged[0]?.data).toMatchObject({
      chids: [`${execution.id}_${fixture.offerId}_${fixture.channelId}_ok1`],
    });
  });

  it("a seed whose proof breaks a limit fails alone; the customers are sent", async () => {
    worker ??= await startWorkers(stack.config, stack.logger);
    stack.sim.reset();
    // range() over (address length × 400): the customers' 12 characters make 4,800 items, the
    // seed's 37 make 14,800, past the 10,000 a range() may make.
    const seeded = await createOfferFixture(stack, {
      seeds: ["a-very-long-proof-address@example.com"],
      variants: [
        {
          key: "a",
          subject: "Hi {{ first_name }}",
          html: "<p>{% for i in range((email | length) * 400) %}{% endfor %}Hi</p>",
          text: "Hi",
        },
      ],
    });
    const execution = await createExecution(stack.deps, {
      offerId: seeded.offerId,
      channelId: seeded.channelId,
      audience: {
        type: "file",
        path: writeNdjson([
          { contact_id: "c1", email: "c1@x.example", first_name: "Bo" },
          { contact_id: "c2", email: "c2@x.example", first_name: "Di" },
        ]),
        format: "ndjson",
      },
    });
    expect(await waitForExecution(stack, execution.id, 30_000)).toBe("completed");
    const status = await getExecutionStatus(stack.deps, execution.id);
    const planned = status.log.find((entry) => entry.message.startsWith("planned"));
    expect((planned?.data as { invalidRows?: unknown[] } | undefined)?.invalidRows).toEqual([
      { row: 0, field: "seeds.0", message: expect.stringMatching(/^html line 1: .*range/) },
    ]);
    // A seed is not an audience row: the audience's counts still add up.
    expect(status.audience).toMatchObject({ invalid: 0 });
    expect(stack.sim.ledger()).toMatchObject({ total: 2, duplicates: 0 });
  });
});
