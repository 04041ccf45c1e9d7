import { compileVariant } from "@luxrelay/render";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { authHeader, CHANNEL_BASE, call, startTestProducer, type TestProducer } from "./support.ts";

// A batch's mail-merge file is opened in spreadsheets: cells that a spreadsheet would run as a
// formula come out as text (OWASP "CSV Injection"), over real HTTP and PostgreSQL.

let producer: TestProducer;

beforeAll(async () => {
  producer = await startTestProducer({ env: { AUDIENCE_TABLES: "crm.contacts" } });
  await producer.runtime.deps.pool.query(
    "CREATE SCHEMA crm; CREATE TABLE crm.contacts (contact_id text, email text)",
  );
});

afterAll(async () => {
  await producer?.close();
});

describe("GET /batches/:id/merge", () => {
  it("escapes cells starting with = + - @ tab or CR with a leading '; the rest is unchanged", async () => {
    const channel = await call(producer.url, "POST", "/channels", { ...CHANNEL_BASE, name: "m" });
    const channelId: string = channel.body.channel.id;
    const campaign = await call(producer.url, "POST", "/campaigns", { name: "Merge" });
    const offer = await call(
      producer.url,
      "POST",
      `/campaigns/${campaign.body.campaign.id}/offers`,
      {
        name: "Audit",
      },
    );
    const offerId: number = offer.body.offer.id;
    const put = await call(producer.url, "PUT", `/offers/${offerId}/variants/a`, {
      subject: "{{ name }}",
      html: "<p>{{ name }}</p>",
      text: "{{ name }}",
    });
    expect(put.status).toBe(200);
    const created = await call(producer.url, "POST", "/executions", {
      offerId,
      channelId,
      audience: { type: "table", name: "crm.contacts" },
    });
    expect(created.status).toBe(201);
    const executionId: number = created.body.execution.id;

    // What planning writes: a batch of the variant and its recipients' slot values.
    const { prisma } = producer.runtime.deps;
    const variant = await prisma.contentVariant.findUniqueOrThrow({
      where: { offerId_key: { offerId, key: "a" } },
    });
    const compiled = compileVariant(variant);
    const contacts: [string, string][] = [
      ['=HYPERLINK("http://evil")', '=HYPERLINK("http://evil")'],
      ["+1", "plus"],
      ["-1", "minus"],
      ["@SUM(A1)", "at"],
      ["\tx", "tab"],
      ["\rx", "cr"],
      ["plain-1", "a=b"],
    ];
    const batch = await prisma.batch.create({
      data: {
        executionId,
        seq: 1,
        variantId: variant.id,
        contentHash: compiled.contentHash,
        recipientCount: contacts.length,
      },
    });
    await prisma.recipient.createMany({
      data: contacts.map(([contactId, name], i) => ({
        executionId,
        contactId,
        email: `r${i}@example.com`,
        batchSeq: 1,
        chid: `${executionId}_${offerId}_${channelId}_c${i}`,
        slotData: compiled.renderSlots({ name }),
      })),
    });

    const response = await fetch(`${producer.url}/batches/${batch.id}/merge`, {
      headers: authHeader(producer.url),
    });
    expect(response.status).toBe(200);
    const lines = (await response.text()).trimEnd().split("\n");
    expect(lines[0]).toBe(
      "contact_id,email,chid,state,sendmail_id,subject,html,text,template_data",
    );
    const chid = (i: number) => `${executionId}_${offerId}_${channelId}_c${i}`;
    const evil = `"'=HYPERLINK(""http://evil"")"`;
    // The contact id, subject and text cells start with "=": escaped. The html cell starts
    // with "<" and the template_data cell with "{": as they were.
    expect(
      lines[1]?.startsWith(
        `${evil},r0@example.com,${chid(0)},pending,,${evil},<p>=HYPERLINK(&quot;http://evil&quot;)</p>,${evil},"{`,
      ),
    ).toBe(true);
    expect(lines.slice(2, 6).map((line) => line.split(",")[0])).toEqual([
      "'+1",
      "'-1",
      "'@SUM(A1)",
      "'\tx",
    ]);
    expect(lines[6]?.startsWith(`"'\rx",r5@example.com,`)).toBe(true);
    // Nothing to escape: written as before, "=" inside a cell included.
    expect(lines[7]).toMatch(
      new RegExp(`^plain-1,r6@example\\.com,${chid(6)},pending,,a=b,<p>a=b</p>,a=b,`),
    );
    expect(lines).toHaveLength(8);
  });
});
