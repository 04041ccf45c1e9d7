import { createTestDatabase, type TestDatabase } from "@luxrelay/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPrismaClient, Prisma, type PrismaClient } from "../src/index.ts";

// The unique constraints that make job handlers idempotent must really reject duplicates.

let db: TestDatabase;
let prisma: PrismaClient;
let channelId: string;
let executionId: number;
let offerId: number;

function isUniqueViolation(error: unknown): boolean {
  return error instanceof Prisma.PrismaClientKnownRequestError && error.code === "P2002";
}

async function expectDuplicateRejected(write: () => Promise<unknown>): Promise<void> {
  const error = await write().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isUniqueViolation(error), `expected a unique violation, got ${String(error)}`).toBe(true);
}

beforeAll(async () => {
  db = await createTestDatabase();
  prisma = createPrismaClient({ databaseUrl: db.url, maxConnections: 2 });
  const channel = await prisma.channel.create({
    data: {
      name: "main",
      luxsciUser: "user@example.com",
      luxsciToken: "token",
      luxsciSecretEnc: "v1:a:b:c",
      fromAddress: "news@example.com",
    },
  });
  channelId = channel.id;
  const campaign = await prisma.campaign.create({ data: { name: "June" } });
  const offer = await prisma.offer.create({ data: { campaignId: campaign.id, name: "Sale" } });
  offerId = offer.id;
  const execution = await prisma.execution.create({
    data: { offerId, channelId, audience: { type: "table", name: "contacts" } },
  });
  executionId = execution.id;
});

afterAll(async () => {
  await prisma?.$disconnect();
  await db?.drop();
});

describe("schema constraints", () => {
  it("gives channels a 32-hex id, as embedded in chid headers", () => {
    expect(channelId).toMatch(/^[0-9a-f]{32}$/);
  });

  it("allows one recipient per execution and contact", async () => {
    const recipient = (contactId: string, chid: string) =>
      prisma.recipient.create({
        data: { executionId, contactId, email: `${contactId}@example.com`, chid, batchSeq: 1 },
      });
    await recipient("c1", `${executionId}_${offerId}_${channelId}_c1`);
    await expectDuplicateRejected(() => recipient("c1", "another-chid"));
  });

  it("deleting an execution deletes its recipients (a trigger does what a foreign key did)", async () => {
    const other = await prisma.execution.create({
      data: { offerId, channelId, audience: { type: "table", name: "contacts" } },
    });
    await prisma.recipient.createMany({
      data: ["a", "b", "c"].map((contactId) => ({
        executionId: other.id,
        contactId,
        email: `${contactId}@example.com`,
        chid: `${other.id}_${offerId}_${channelId}_${contactId}`,
        batchSeq: 1,
      })),
    });
    await prisma.execution.delete({ where: { id: other.id } });
    expect(await prisma.recipient.count({ where: { executionId: other.id } })).toBe(0);
    expect(await prisma.recipient.count({ where: { executionId } })).toBe(1);
  });

  it("deleting a channel deletes its engagement and keeps its suppressions (a trigger does what foreign keys did)", async () => {
    const channel = await prisma.channel.create({
      data: {
        name: "gone",
        luxsciUser: "gone@example.com",
        luxsciToken: "token",
        luxsciSecretEnc: "v1:a:b:c",
        fromAddress: "news@example.com",
      },
    });
    const engagement = (id: string) => ({
      channelId: id,
      email: "kept@example.com",
      firstEventAt: new Date(),
      lastEventAt: new Date(),
    });
    await prisma.contactEngagement.createMany({
      data: [engagement(channel.id), engagement(channelId)],
    });
    await prisma.suppression.create({
      data: { email: "of-a-gone-channel@example.com", source: "hard_fail", channelId: channel.id },
    });
    await prisma.channel.delete({ where: { id: channel.id } });
    expect(await prisma.contactEngagement.count({ where: { channelId: channel.id } })).toBe(0);
    expect(await prisma.contactEngagement.count({ where: { channelId } })).toBe(1);
    const suppression = await prisma.suppression.findFirst({
      where: { email: "of-a-gone-channel@example.com" },
    });
    expect(suppression).toMatchObject({ source: "hard_fail", channelId: null });
  });

  it("allows one batch per execution and position", async () => {
    const batch = () =>
      prisma.batch.create({
        data: { executionId, seq: 1, contentHash: "a".repeat(64), recipientCount: 1000 },
      });
    await batch();
    await expectDuplicateRejected(batch);
  });

  it("allows one event per sendmail id, type and time, but other types and times", async () => {
    const occurredAt = new Date("2026-07-18T15:33:40Z");
    const event = (type: "sent" | "delivered", at: Date) =>
      prisma.emailEvent.create({
        data: { channelId, sendmailId: "37IFXe008i13463", type, occurredAt: at },
      });
    await event("sent", occurredAt);
    await expectDuplicateRejected(() => event("sent", occurredAt));
    await event("delivered", occurredAt);
    await event("sent", new Date(occurredAt.getTime() + 1000));
    expect(await prisma.emailEvent.count()).toBe(3);
  });

  it("allows one suppression per email and source", async () => {
    const suppress = (source: "hard_fail" | "luxsci_list") =>
      prisma.suppression.create({ data: { email: "gone@example.com", source } });
    await suppress("hard_fail");
    await expectDuplicateRejected(() => suppress("hard_fail"));
    await suppress("luxsci_list");
  });

  it("allows one watermark per channel and report, one tracking id per execution", async () => {
    const watermark = () =>
      prisma.syncWatermark.create({
        data: { channelId, reportType: "delivery", afterDate: new Date() },
      });
    await watermark();
    await expectDuplicateRejected(watermark);
    const tracking = (trackingId: string) =>
      prisma.tracking.create({ data: { trackingId, executionId, offerId, channelId } });
    await tracking(`${executionId}_${offerId}_${channelId}`);
    await expectDuplicateRejected(() => tracking("other-id"));
  });

  it("allows one offer-history row per execution and contact", async () => {
    const history = () =>
      prisma.offerHistory.create({
        data: {
          executionId,
          offerId,
          channelId,
          contactId: "c1",
          email: "c1@example.com",
          state: "sent",
        },
      });
    await history();
    await expectDuplicateRejected(history);
  });

  it("refuses to delete a channel that executions still use", async () => {
    await expect(prisma.channel.delete({ where: { id: channelId } })).rejects.toThrow();
  });
});
