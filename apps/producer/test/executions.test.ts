import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { compileVariant } from "@luxrelay/render";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { authHeader, CHANNEL_BASE, call, startTestProducer, type TestProducer } from "./support.ts";

// Campaigns, offers, variants, audiences and executions over real HTTP, PostgreSQL and Redis.
// No workers run: an execution is checked up to its plan job in the queue.

let producer: TestProducer;
let channelId: string;
let campaignId: number;
let offerId: number;
let audienceId: string;

const HTML = "<p>Hello {{ first_name }}</p>";

beforeAll(async () => {
  // The table audience below must be allowed and exist (audiences.test.ts: the refusals).
  producer = await startTestProducer({ env: { AUDIENCE_TABLES: "crm.contacts" } });
  await producer.runtime.deps.pool.query(
    "CREATE SCHEMA crm; CREATE TABLE crm.contacts (contact_id text, email text)",
  );
  const channel = await call(producer.url, "POST", "/channels", { ...CHANNEL_BASE, name: "c" });
  channelId = channel.body.channel.id;
});

afterAll(async () => {
  await producer?.close();
});

describe("campaigns, offers and variants", () => {
  it("creates and lists campaigns; a name is unique", async () => {
    const created = await call(producer.url, "POST", "/campaigns", {
      name: "Spring",
      description: "spring sale",
    });
    expect(created.status).toBe(201);
    campaignId = created.body.campaign.id;
    const again = await call(producer.url, "POST", "/campaigns", { name: "Spring" });
    expect(again.status).toBe(409);
    const list = await call(producer.url, "GET", "/campaigns");
    expect(list.body.campaigns).toEqual([
      expect.objectContaining({ id: campaignId, name: "Spring", offers: [] }),
    ]);
  });

  it("creates an offer with seeds checked, lowercased and de-duplicated", async () => {
    const bad = await call(producer.url, "POST", `/campaigns/${campaignId}/offers`, {
      name: "Launch",
      seeds: ["ok@example.com", "not-an-email"],
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.field).toBe("seeds.1");
    const badRule = await call(producer.url, "POST", `/campaigns/${campaignId}/offers`, {
      name: "Launch",
      variantRule: { type: "lottery" },
    });
    expect(badRule.status).toBe(400);
    expect(badRule.body.error.field).toMatch(/^variantRule/);
    const created = await call(producer.url, "POST", `/campaigns/${campaignId}/offers`, {
      name: "Launch",
      variantRule: { type: "split", weights: { a: 1, b: 1 } },
      seeds: ["Proof@Example.com", "proof@example.com", "qa@example.com"],
    });
    expect(created.status).toBe(201);
    expect(created.body.offer).toMatchObject({
      name: "Launch",
      campaign: { id: campaignId, name: "Spring" },
      seeds: ["proof@example.com", "qa@example.com"],
      variants: [],
    });
    offerId = created.body.offer.id;
    const noCampaign = await call(producer.url, "POST", "/campaigns/999999/offers", { name: "x" });
    expect(noCampaign.status).toBe(404);
  });

  it("validates variant templates and names part and line", async () => {
    const sandbox = await call(producer.url, "PUT", `/offers/${offerId}/variants/a`, {
      subject: "Hi",
      html: '<p>\n{{ "".constructor }}\n</p>',
      text: "Hi",
    });
    expect(sandbox.status).toBe(400);
    expect(sandbox.body.error.field).toBe("variants.a.html");
    expect(sandbox.body.error.message).toMatch(/line 2/);
    const syntax = await call(producer.url, "PUT", `/offers/${offerId}/variants/a`, {
      subject: "Hi {% if %}",
      html: HTML,
      text: "Hi",
    });
    expect(syntax.status).toBe(400);
    expect(syntax.body.error.field).toBe("variants.a.subject");
    const missingText = await call(producer.url, "PUT", `/offers/${offerId}/variants/a`, {
      subject: "Hi",
      html: HTML,
    });
    expect(missingText.status).toBe(400);
    expect(missingText.body.error.field).toBe("text");
  });

  it("refuses a template that loops, pads or breaks the subject line in a trial render", async () => {
    const put = (body: Record<string, unknown>) =>
      call(producer.url, "PUT", `/offers/${offerId}/variants/a`, {
        subject: "Hi",
        html: HTML,
        text: "Hi",
        ...body,
      });
    const loops = await put({
      html: "<p>{% for a in range(5000) %}{% for b in range(4000) %}x{% endfor %}{% endfor %}</p>",
    });
    expect(loops.status).toBe(400);
    expect(loops.body.error.field).toBe("variants.a.html");
    expect(loops.body.error.message).toMatch(/steps|time budget/);
    const pads = await put({ text: "{{ 'a' | center(100000000) }}" });
    expect(pads.status).toBe(400);
    expect(pads.body.error.field).toBe("variants.a.text");
    expect(pads.body.error.message).toMatch(/center: the result is over the limit/);
    const subject = await put({ subject: "Hi {{ name }}", sample: { name: "Ann\r\nBcc: x" } });
    expect(subject.status).toBe(400);
    expect(subject.body.error.field).toBe("variants.a.subject");
    expect(subject.body.error.message).toMatch(/line break/);
    // Data the sample lacks is no reason to refuse: `join` of nothing fails only without it.
    const needsData = await put({ text: "{{ items | join(', ') }}" });
    expect(needsData.status).toBe(200);
  });

  it("stores variants, replaces one by key, and shows them in order", async () => {
    const a = await call(producer.url, "PUT", `/offers/${offerId}/variants/a`, {
      subject: "Hello {{ first_name }}",
      html: HTML,
      text: "Hello {{ first_name }}",
      position: 1,
    });
    expect(a.status).toBe(200);
    expect(a.body.variant).toMatchObject({ key: "a", format: "both", position: 1 });
    await call(producer.url, "PUT", `/offers/${offerId}/variants/b`, {
      subject: "Hey",
      html: "<p>Hey</p>",
      format: "html",
      position: 0,
    });
    const replaced = await call(producer.url, "PUT", `/offers/${offerId}/variants/b`, {
      subject: "Hey there",
      html: "<p>Hey</p>",
      text: "ignored for html",
      format: "html",
      position: 0,
    });
    expect(replaced.body.variant).toMatchObject({ subject: "Hey there", text: null });
    const offer = await call(producer.url, "GET", `/offers/${offerId}`);
    expect(offer.body.offer.variants.map((v: { key: string }) => v.key)).toEqual(["b", "a"]);
    expect((await call(producer.url, "GET", "/offers/424242")).status).toBe(404);
  });

  it("replaces the seed list", async () => {
    const seeds = await call(producer.url, "PUT", `/offers/${offerId}/seeds`, {
      seeds: ["New@Example.com"],
    });
    expect(seeds.body.offer.seeds).toEqual(["new@example.com"]);
    const bad = await call(producer.url, "PUT", `/offers/${offerId}/seeds`, { seeds: ["x"] });
    expect(bad.body.error.field).toBe("seeds.0");
  });
});

describe("audiences", () => {
  it("streams a 50k-row CSV to the state folder and counts its rows", async () => {
    const lines = ["contact_id,email,first_name"];
    for (let i = 0; i < 50_000; i++) lines.push(`c${i},user${i}@example.com,Name ${i}`);
    const csv = `${lines.join("\r\n")}\r\n`;
    const response = await fetch(`${producer.url}/audiences?format=csv`, {
      method: "POST",
      headers: { "content-type": "text/csv", ...authHeader(producer.url) },
      body: csv,
    });
    expect(response.status).toBe(201);
    const reply = (await response.json()) as {
      id: string;
      audience: { type: string; path: string; format: string };
      rows: number;
      bytes: number;
    };
    expect(reply.rows).toBe(50_000);
    expect(reply.bytes).toBe(Buffer.byteLength(csv));
    expect(reply.audience).toEqual({
      type: "file",
      format: "csv",
      path: join(producer.stateDir, "audiences", `${reply.id}.csv`),
    });
    expect((await stat(reply.audience.path)).size).toBe(Buffer.byteLength(csv));
    audienceId = reply.id;
  });

  it("takes NDJSON, infers the format from the content type, and needs one otherwise", async () => {
    const ndjson =
      '{"contact_id":"1","email":"a@example.com"}\n\n{"contact_id":"2","email":"b@example.com"}';
    const response = await fetch(`${producer.url}/audiences`, {
      method: "POST",
      headers: { "content-type": "application/x-ndjson", ...authHeader(producer.url) },
      body: ndjson,
    });
    const reply = (await response.json()) as { rows: number; audience: { path: string } };
    expect(reply.rows).toBe(2);
    expect(await readFile(reply.audience.path, "utf8")).toBe(ndjson);
    const unknown = await fetch(`${producer.url}/audiences`, {
      method: "POST",
      headers: { "content-type": "application/octet-stream", ...authHeader(producer.url) },
      body: "x",
    });
    expect(unknown.status).toBe(400);
    expect(((await unknown.json()) as { error: { field: string } }).error.field).toBe("format");
  });
});

describe("executions", () => {
  let executionId: number;

  it("creates an execution from an uploaded audience and queues its plan job", async () => {
    const created = await call(producer.url, "POST", "/executions", {
      offerId,
      channelId,
      audienceFile: audienceId,
    });
    expect(created.status).toBe(201);
    expect(created.body.execution).toMatchObject({ offerId, channelId, status: "scheduled" });
    executionId = created.body.execution.id;
    expect(created.body.execution.audience).toMatchObject({ type: "file", format: "csv" });
    const job = await producer.runtime.deps.queues.plan.getJob(`plan-${executionId}`);
    expect(job?.data).toEqual({ executionId });
  });

  it("schedules a send for later as a delayed plan job; a table audience is accepted", async () => {
    const sendAt = new Date(Date.now() + 3_600_000).toISOString();
    const created = await call(producer.url, "POST", "/executions", {
      offerId,
      channelId,
      audience: { type: "table", name: "crm.contacts" },
      sendAt,
    });
    expect(created.status).toBe(201);
    const job = await producer.runtime.deps.queues.plan.getJob(`plan-${created.body.execution.id}`);
    expect(await job?.isDelayed()).toBe(true);
    // Cancelling a scheduled send removes its delayed plan job.
    const cancelled = await call(
      producer.url,
      "POST",
      `/executions/${created.body.execution.id}/cancel`,
    );
    expect(cancelled.body.execution.status).toBe("cancelled");
    expect(
      await producer.runtime.deps.queues.plan.getJob(`plan-${created.body.execution.id}`),
    ).toBeUndefined();
  });

  it("refuses audiences outside the state folder and unknown ids", async () => {
    const cases: [Record<string, unknown>, number, string][] = [
      [{ audience: { type: "file", path: "/etc/passwd", format: "csv" } }, 400, "audience.path"],
      [{ audience: { type: "file", path: "../x.csv", format: "csv" } }, 400, "audience.path"],
      [{ audience: { type: "table", name: "x; drop table y" } }, 400, "audience.name"],
      [{ audienceFile: "00000000-0000-4000-8000-000000000000" }, 400, "audienceFile"],
      [{}, 400, "audience"],
      [{ audienceFile: audienceId, sendAt: "tomorrow" }, 400, "sendAt"],
    ];
    for (const [body, status, field] of cases) {
      const reply = await call(producer.url, "POST", "/executions", {
        offerId,
        channelId,
        ...body,
      });
      expect(reply.status, JSON.stringify(body)).toBe(status);
      expect(reply.body.error.field, JSON.stringify(body)).toBe(field);
    }
    const noOffer = await call(producer.url, "POST", "/executions", {
      offerId: 999_999,
      channelId,
      audienceFile: audienceId,
    });
    expect(noOffer.status).toBe(404);
    const noChannel = await call(producer.url, "POST", "/executions", {
      offerId,
      channelId: "0".repeat(32),
      audienceFile: audienceId,
    });
    expect(noChannel.status).toBe(404);
  });

  it("shows status and moves through pause, resume and cancel; 409 when not allowed", async () => {
    const status = await call(producer.url, "GET", `/executions/${executionId}`);
    expect(status.body.execution).toMatchObject({
      id: executionId,
      status: "scheduled",
      batches: { total: 0 },
    });
    // A scheduled execution isn't sending yet: nothing to pause.
    const early = await call(producer.url, "POST", `/executions/${executionId}/pause`);
    expect(early.status).toBe(409);
    expect(early.body.error.message).toMatch(/scheduled: cannot pause/);
    // What the plan worker would do once it starts sending.
    await producer.runtime.deps.prisma.execution.update({
      where: { id: executionId },
      data: { status: "sending" },
    });
    const steps: [string, number, string?][] = [
      ["pause", 200, "paused"],
      ["pause", 409],
      ["resume", 200, "sending"],
      ["resume", 409],
      ["replay", 409],
      ["cancel", 200, "cancelled"],
      ["resume", 409],
      ["cancel", 409],
    ];
    for (const [action, code, next] of steps) {
      const reply = await call(producer.url, "POST", `/executions/${executionId}/${action}`);
      expect(reply.status, action).toBe(code);
      if (next) expect(reply.body.execution.status).toBe(next);
    }
    expect((await call(producer.url, "GET", "/executions/999999")).status).toBe(404);
    expect((await call(producer.url, "POST", "/executions/999999/pause")).status).toBe(404);
    expect((await call(producer.url, "GET", "/executions/abc")).body.error.field).toBe("id");
  });

  it("streams a batch's mail-merge file as CSV; 404 for an unknown batch", async () => {
    const { prisma } = producer.runtime.deps;
    // What planning writes: a batch of variant b (static content) and its recipients.
    const variant = await prisma.contentVariant.findUniqueOrThrow({
      where: { offerId_key: { offerId, key: "b" } },
    });
    const batch = await prisma.batch.create({
      data: {
        executionId,
        seq: 1,
        variantId: variant.id,
        contentHash: compileVariant(variant).contentHash,
        recipientCount: 2,
      },
    });
    await prisma.recipient.createMany({
      data: ["r1", "r2"].map((contactId) => ({
        executionId,
        contactId,
        email: `${contactId}@example.com`,
        batchSeq: 1,
        chid: `${executionId}_${offerId}_${channelId}_${contactId}`,
        slotData: {},
      })),
    });
    const response = await fetch(`${producer.url}/batches/${batch.id}/merge`, {
      headers: authHeader(producer.url),
    });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^text\/csv/);
    const lines = (await response.text()).trim().split("\n");
    expect(lines[0]).toMatch(/^contact_id,email,chid,/);
    expect(lines).toHaveLength(3);
    expect(lines[1]).toContain("r1@example.com");
    expect(lines[1]).toContain("Hey there");

    const missing = await call(producer.url, "GET", "/batches/999999/merge");
    expect(missing.status).toBe(404);
  });
});

describe("service routes", () => {
  it("reports health", async () => {
    const health = await call(producer.url, "GET", "/healthz");
    expect(health.body).toEqual({ ok: true, postgres: "ok", redis: "ok" });
  });

  it("serves an OpenAPI document listing every route with its request schemas", async () => {
    const doc = await call(producer.url, "GET", "/openapi.json");
    expect(doc.status).toBe(200);
    expect(doc.body.openapi).toMatch(/^3\./);
    const routes = Object.entries(
      doc.body.paths as Record<string, Record<string, unknown>>,
    ).flatMap(([path, methods]) =>
      Object.keys(methods).map((method) => `${method.toUpperCase()} ${path}`),
    );
    for (const route of [
      "POST /channels",
      "GET /channels",
      "GET /channels/{id}",
      "PATCH /channels/{id}",
      "POST /channels/{id}/test",
      "POST /campaigns",
      "GET /campaigns",
      "POST /campaigns/{id}/offers",
      "GET /offers/{id}",
      "PUT /offers/{id}/variants/{key}",
      "PUT /offers/{id}/seeds",
      "POST /audiences",
      "POST /executions",
      "GET /executions/{id}",
      "POST /executions/{id}/pause",
      "POST /executions/{id}/resume",
      "POST /executions/{id}/cancel",
      "POST /executions/{id}/replay",
      "GET /batches/{id}/merge",
      "GET /healthz",
    ]) {
      expect(routes).toContain(route);
    }
    expect(routes).not.toContain("GET /openapi.json");
    const channelBody =
      doc.body.paths["/channels"].post.requestBody.content["application/json"].schema;
    expect(channelBody.properties.fromName).toMatchObject({ maxLength: 100 });
    expect(channelBody.required).toContain("luxsciSecret");
  });
});
