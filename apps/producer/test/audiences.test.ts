import { randomUUID } from "node:crypto";
import { mkdir, readdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { authHeader, CHANNEL_BASE, call, startTestProducer, type TestProducer } from "./support.ts";

// Issue 14, at the door: uploads over AUDIENCE_MAX_BYTES (streamed or not) are a 413 that
// leaves no file; an audience the planner could do nothing with, a split rule naming a variant
// the offer lacks, and a table audience outside AUDIENCE_TABLES (or luxrelay's own, or a
// system catalog, or not there) are refused when given, not found out by the plan job.

const MAX_BYTES = 64 * 1024;

let producer: TestProducer;
let channelId: string;
let offerId: number;

const audienceFiles = () => readdir(join(producer.stateDir, "audiences")).catch((): string[] => []);

async function upload(body: RequestInit["body"], type: string, init: RequestInit = {}) {
  const response = await fetch(`${producer.url}/audiences`, {
    method: "POST",
    headers: { "content-type": type, ...authHeader(producer.url) },
    body,
    ...init,
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
}

beforeAll(async () => {
  producer = await startTestProducer({
    env: {
      AUDIENCE_MAX_BYTES: String(MAX_BYTES),
      // Every table of public, so that luxrelay's own are refused by name, not by the list.
      AUDIENCE_TABLES: "public.*, crm.contacts, pg_catalog.*, information_schema.*",
    },
  });
  const channel = await call(producer.url, "POST", "/channels", { ...CHANNEL_BASE, name: "c" });
  channelId = channel.body.channel.id;
  const campaign = await call(producer.url, "POST", "/campaigns", { name: "Hostile" });
  const offer = await call(producer.url, "POST", `/campaigns/${campaign.body.campaign.id}/offers`, {
    name: "Plain",
  });
  offerId = offer.body.offer.id;
  await call(producer.url, "PUT", `/offers/${offerId}/variants/a`, {
    subject: "Hi",
    text: "Hi",
    format: "text",
  });
  const { pool } = producer.runtime.deps;
  await pool.query(`
    CREATE SCHEMA crm;
    CREATE TABLE crm.contacts (contact_id text, email text);
    CREATE TABLE crm.secret_contacts (contact_id text, email text);
    CREATE TABLE public.no_email (contact_id text, address text);
    INSERT INTO crm.contacts VALUES ('k1', 'k1@example.com');
  `);
});

afterAll(async () => {
  await producer?.close();
});

describe("uploads", () => {
  it("a body over AUDIENCE_MAX_BYTES is a 413 and leaves no file, with or without a length", async () => {
    const csv = `email\n${"someone@example.com\n".repeat(MAX_BYTES / 10)}`;
    const declared = await upload(csv, "text/csv");
    expect(declared.status).toBe(413);
    expect(declared.body).toEqual({ error: { message: expect.stringMatching(/AUDIENCE_MAX/) } });
    // Streamed (chunked, no content-length): counted as it is written, cut off at the limit.
    const chunk = new TextEncoder().encode("someone@example.com\n".repeat(800));
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent === 0) controller.enqueue(new TextEncoder().encode("email\n"));
        sent += chunk.length;
        controller.enqueue(chunk);
        if (sent > 4 * MAX_BYTES) controller.close();
      },
    });
    const streamed = await upload(stream, "text/csv", { duplex: "half" } as RequestInit);
    expect(streamed.status).toBe(413);
    expect(streamed.body.error.message).toMatch(/larger than 65536 bytes/);
    expect(await audienceFiles()).toEqual([]);
    // Just under the limit is taken.
    const fits = await upload(`email\n${"a@example.com\n".repeat(4000)}`, "text/csv");
    expect(fits.status).toBe(201);
    expect(fits.body.rows).toBe(4000);
  });

  it("an empty audience, a CSV with no email column, NDJSON whose first record has no email: 400", async () => {
    const before = await audienceFiles();
    const cases: [string, string, string, RegExp][] = [
      ["", "text/csv", "body", /empty/],
      ["email\r\n\r\n", "text/csv", "body", /no contact rows/],
      ["\n\n", "application/x-ndjson", "body", /empty/],
      ["contact_id,address\nc1,a@example.com\n", "text/csv", "email", /no email column/],
      ['{"id":"c1","mail":"a@example.com"}\n', "application/x-ndjson", "email", /no email/],
      ['not json\n{"email":"a@example.com"}\n', "application/x-ndjson", "body", /not JSON/],
    ];
    for (const [body, type, field, message] of cases) {
      const reply = await upload(body, type);
      expect(reply.status, JSON.stringify(body)).toBe(400);
      expect(reply.body.error.field, JSON.stringify(body)).toBe(field);
      expect(reply.body.error.message, JSON.stringify(body)).toMatch(message);
    }
    expect(await audienceFiles()).toEqual(before);
    // "Email" is an email column too, and a header-only BOM'd CSV with a row is fine.
    const ok = await upload("\uFEFFEmail,name\nA@example.com,Ann\n", "text/csv");
    expect(ok.status).toBe(201);
  });
});

describe("executions refuse at create what the plan would fail on", () => {
  it("a split rule naming a variant the offer lacks; a split with no weight above 0", async () => {
    const campaign = await call(producer.url, "POST", "/campaigns", { name: "Split" });
    const offers = `/campaigns/${campaign.body.campaign.id}/offers`;
    const zero = await call(producer.url, "POST", offers, {
      name: "Zero",
      variantRule: { type: "split", weights: { a: 0 } },
    });
    expect(zero.status).toBe(400);
    expect(zero.body.error.field).toBe("variantRule.weights");
    const split = await call(producer.url, "POST", offers, {
      name: "AB",
      variantRule: { type: "split", weights: { a: 1, c: 1 } },
    });
    expect(split.status).toBe(201);
    for (const key of ["a", "b"]) {
      await call(producer.url, "PUT", `/offers/${split.body.offer.id}/variants/${key}`, {
        subject: key,
        text: key,
        format: "text",
      });
    }
    const uploaded = await upload("email\na@example.com\n", "text/csv");
    const reply = await call(producer.url, "POST", "/executions", {
      offerId: split.body.offer.id,
      channelId,
      audienceFile: uploaded.body.id,
    });
    expect(reply.status).toBe(400);
    expect(reply.body.error.field).toBe("offerId");
    expect(reply.body.error.message).toMatch(/"c", which the offer has no variant for/);
    expect(await producer.runtime.deps.prisma.execution.count()).toBe(0);
  });

  it("a file put in the audiences folder by hand with no email column", async () => {
    const id = randomUUID();
    await mkdir(join(producer.stateDir, "audiences"), { recursive: true });
    await writeFile(join(producer.stateDir, "audiences", `${id}.csv`), "name\nAnn\n");
    const reply = await call(producer.url, "POST", "/executions", {
      offerId,
      channelId,
      audienceFile: id,
    });
    expect(reply.status).toBe(400);
    expect(reply.body.error).toMatchObject({ field: "audience", message: /no email column/ });
  });

  it("table audiences: only allowed tables that exist and have an email column", async () => {
    const cases: [string, RegExp][] = [
      ["crm.secret_contacts", /not one AUDIENCE_TABLES allows/],
      ["nope.contacts", /not one AUDIENCE_TABLES allows/],
      ["no_such_table", /does not exist/],
      ["no_email", /has no email column/],
      ["pg_user", /system catalog/],
      ["pg_catalog.pg_authid", /system catalog/],
      ["information_schema.tables", /system catalog/],
      ["pg_toast.anything", /system catalog/],
    ];
    for (const [name, message] of cases) {
      const reply = await call(producer.url, "POST", "/executions", {
        offerId,
        channelId,
        audience: { type: "table", name },
      });
      expect(reply.status, name).toBe(400);
      expect(reply.body.error.field, name).toBe("audience.name");
      expect(reply.body.error.message, name).toMatch(message);
    }
    const ok = await call(producer.url, "POST", "/executions", {
      offerId,
      channelId,
      audience: { type: "table", name: "crm.contacts" },
    });
    expect(ok.status).toBe(201);
  });

  it("none of luxrelay's own tables, though AUDIENCE_TABLES allows all of public", async () => {
    const { rows } = await producer.runtime.deps.pool.query<{ name: string }>(
      "SELECT tablename AS name FROM pg_tables WHERE schemaname = current_schema()",
    );
    const own = rows.map((row) => row.name).filter((name) => name !== "no_email");
    expect(own).toContain("channel");
    for (const name of own) {
      const reply = await call(producer.url, "POST", "/executions", {
        offerId,
        channelId,
        audience: { type: "table", name },
      });
      // A table added by a migration must be added to LUXRELAY_TABLES (packages/outbound).
      expect(reply.body.error?.message, name).toMatch(/is one of luxrelay's own/);
      expect(reply.status, name).toBe(400);
    }
  });
});
