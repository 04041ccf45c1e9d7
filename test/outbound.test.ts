import { createExecution, getExecutionStatus } from "@luxrelay/outbound";
import { compileVariant } from "@luxrelay/render";
import { startWorkers, type WorkerProcess } from "@luxrelay/worker";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeContacts, writeCsv } from "./helpers/audience.ts";
import { createOfferFixture, type Stack, startStack, waitForExecution } from "./helpers/stack.ts";

// Seed 000 outbound steps 1-9 end to end: planning, templates, batches, the send flow and
// finalize, against the simulator over HTTP with real Redis, PostgreSQL and workers. The
// simulator's ledger is the proof: every valid, unsuppressed recipient exactly once.

const VARIANTS = [
  {
    key: "gold",
    subject: "Gold offer for {{ first_name }}",
    html: "<h1>Hello {{ first_name }}</h1><p>Gold members in {{ city }} save 30%.</p>{% if city == 'Zürich' %}<p>Grüezi!</p>{% endif %}",
    text: "Hello {{ first_name }}, gold members save 30%.",
  },
  {
    key: "silver",
    subject: "Silver offer for {{ first_name | upper }}",
    html: "<h1>Hi {{ first_name }}</h1><p>Silver: 20% in {{ city }}.</p>",
    text: "Hi {{ first_name }}, silver saves 20%.",
  },
  {
    key: "bronze",
    subject: "A bronze offer",
    html: "<p>Dear {{ first_name }}, bronze saves 10%.</p>",
    text: "Dear {{ first_name }}, bronze saves 10%.",
  },
];

let stack: Stack;
let worker: WorkerProcess;

beforeAll(async () => {
  stack = await startStack({ keepMergedMessages: 20_000 });
  worker = await startWorkers(stack.config, stack.logger);
});

afterAll(async () => {
  await worker?.stop();
  await stack?.close();
});

describe("outbound fulfillment", () => {
  it("10k recipients, 3 variants: each valid, unsuppressed recipient exactly once, right chid and content", async () => {
    const fixture = await createOfferFixture(stack, {
      variants: VARIANTS,
      variantAttribute: "segment",
    });
    const contacts = makeContacts(10_000, ["gold", "silver", "bronze"]);
    const suppressed = contacts.filter((_, i) => i % 200 === 5).map((c) => c.email.toLowerCase());
    await stack.deps.prisma.suppression.createMany({
      data: suppressed.map((email) => ({ email, source: "hard_fail" as const })),
    });
    const invalid = Array.from({ length: 20 }, (_, i) => `bad${i},not-an-email,X,gold,Boston`);
    const duplicates = contacts
      .slice(0, 30)
      .map((c) => `${c.contact_id}x,${c.email.toUpperCase()},Dup,gold,Boston`);
    const path = writeCsv(contacts, [...invalid, ...duplicates]);

    const execution = await createExecution(stack.deps, {
      offerId: fixture.offerId,
      channelId: fixture.channelId,
      audience: { type: "file", path, format: "csv" },
    });
    expect(await waitForExecution(stack, execution.id)).toBe("completed");

    const expected = contacts.filter((c) => !suppressed.includes(c.email.toLowerCase()));
    expect(stack.sim.ledger()).toMatchObject({ total: expected.length, duplicates: 0 });

    // Every expected chid once; no suppressed or invalid one.
    const chidOf = (contactId: string) =>
      `${execution.id}_${fixture.offerId}_${fixture.channelId}_${contactId}`;
    const entries = stack.sim.ledgerEntries({ chids: expected.map((c) => chidOf(c.contact_id)) });
    expect(entries).toHaveLength(expected.length);
    expect(new Set(entries.map((e) => e.chid)).size).toBe(expected.length);
    expect(
      stack.sim.ledgerEntries({ chids: suppressed.map((_, i) => chidOf(`c${i * 200 + 6}`)) }),
    ).toEqual([]);

    // Exactly three templates, one per variant, all deleted at the end.
    const templates = await stack.deps.prisma.luxsciTemplate.findMany({
      where: { executionId: execution.id },
    });
    expect(templates).toHaveLength(3);
    expect(templates.every((t) => t.state === "deleted")).toBe(true);
    expect(new Set(entries.map((e) => e.templateId)).size).toBe(3);

    // Batches hold at most 1000 recipients of one variant.
    const batches = await stack.deps.prisma.batch.findMany({
      where: { executionId: execution.id },
    });
    for (const batch of batches) {
      expect(batch.recipientCount).toBeLessThanOrEqual(1000);
      expect(batch.state).toBe("sent");
      const recipients = await stack.deps.prisma.recipient.findMany({
        where: { executionId: execution.id, batchSeq: batch.seq },
        select: { sendmailId: true },
      });
      expect(recipients).toHaveLength(batch.recipientCount);
      const ids = recipients.map((r) => r.sendmailId as string);
      const templateIds = new Set(
        stack.sim.ledgerEntries({ sendmailIds: ids }).map((e) => e.templateId),
      );
      expect(templateIds.size).toBe(1);
    }

    // Merged content equals the full render of the recipient's own variant.
    const compiled = Object.fromEntries(VARIANTS.map((v) => [v.key, compileVariant(v)]));
    for (const contact of expected.filter((_, i) => i % 997 === 0)) {
      const [entry] = stack.sim.ledgerEntries({ chids: [chidOf(contact.contact_id)] });
      expect(entry?.to).toBe(contact.email.toLowerCase());
      const merged = stack.sim.mergedMessage(entry?.sendmailId as string);
      const full = compiled[contact.segment]?.renderFull({
        ...contact,
        email: contact.email.toLowerCase(),
      });
      expect(merged).toEqual(full);
      expect(entry?.headers).toEqual([
        ["chid", chidOf(contact.contact_id)],
        ["offername", "June Sales"],
      ]);
    }

    const status = await getExecutionStatus(stack.deps, execution.id);
    expect(status.audience).toMatchObject({
      invalid: 20,
      duplicate: 30,
      suppressed: suppressed.length,
    });
    const final = status.log.at(-1);
    expect(final?.data).toMatchObject({
      batchesFailed: 0,
      recipientsMerged: expected.length,
      recipientsSuppressed: suppressed.length,
      recipientsInvalid: 20,
      templatesDeleted: 3,
    });
    const planned = status.log.find((entry) => entry.message.startsWith("planned"));
    expect(
      (planned?.data as { invalidRows: { row: number; field: string }[] } | undefined)
        ?.invalidRows[0],
    ).toEqual({
      row: 10_002,
      field: "email",
      message: expect.stringContaining("not-an-email"),
    });
  });
});
