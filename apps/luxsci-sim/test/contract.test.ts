import { createHmac } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPORT_HEADERS, type Simulator, startSimulator } from "../src/index.ts";
import { ALICE, admin, message, TestClient } from "./helpers.ts";

// Seed 000's request/response shapes and the contract's auth rules, over real HTTP.
let sim: Simulator;
const AUTH_VALUE = /^163972-\d{10}-[0-9a-f]{64}$/;

beforeAll(async () => {
  sim = await startSimulator({
    seed: 7,
    accounts: [ALICE, { user: "bob", pass: "b", token: "tok-bob", secret: "bob-secret" }],
    eventDelayScale: 0.001,
    eventRates: { unsubscribe: 0.2, fbl: 0.2, open: 0.8, click: 0.8 },
  });
});
afterAll(() => sim.close());

describe("seed 000 shapes", () => {
  it("auth, profile, template, send, reports, jobs, suppression", async () => {
    const client = new TestClient(sim.url);
    const auth = await client.login();
    expect(auth.status).toBe(200);
    expect(Object.keys(auth.json).sort()).toEqual(["auth", "success"]);
    expect(auth.json.auth).toMatch(AUTH_VALUE);

    const profile = await client.call("GET", "/user/alice/profile");
    expect(profile.json).toMatchObject({ success: 1, data: { uid: "163972", account: 19172 } });
    expect(profile.json.auth).toMatch(AUTH_VALUE);
    expect(profile.json.auth).not.toBe(auth.json.auth);
    expect(Object.keys(profile.json.data)).toHaveLength(26);

    const template = await client.call("PUT", "/user/alice/templates", {
      template_id: 0,
      code_word: null,
      title: "RPI_1",
      subject: "Hi {{FirstName}}",
      body_html: "<p>{{FirstName}}</p>",
      body_text: "{{FirstName}}",
      format: "both",
      sl_opt_in: true,
      sl_opt_out: false,
      sl_no_tls: "false",
    });
    expect(template.json).toMatchObject({ success: 1, data: { template_id: "330814" } });

    const sent = await client.call("POST", "/user/alice/email/send", {
      message: null,
      messages: [0, 1, 2].map((i) =>
        message(i, { subject: null, template: "330814", template_data: { FirstName: `F${i}` } }),
      ),
      sandbox: 0,
    });
    expect(sent.json.success).toBe(1);
    expect(sent.json.data).toHaveLength(3);
    for (const id of sent.json.data) expect(id).toMatch(/^[0-9A-Za-z]{9}i\d{5}$/);

    sim.settleEvents();
    await client.login();
    for (const [path, kind] of [
      ["smtp/sent", "sent"],
      ["smtp/delivery", "delivery"],
      ["smtp/opens", "opens"],
      ["smtp/clicks", "clicks"],
      ["fbl", "fbl"],
    ] as const) {
      const page = await client.call(
        "GET",
        `/user/alice/report/email/${path}?tracked_headers=true&first_row=0&matches=100&header1=chid&header1_operator=like&header1_value=_ch1`,
      );
      expect(page.status, path).toBe(200);
      expect(Object.keys(page.json.data).sort()).toEqual(
        ["first", "header", "matches_returned", "matches_total", "rows"].sort(),
      );
      expect(page.json.data.header).toEqual(REPORT_HEADERS[kind]);
      for (const row of page.json.data.rows) expect(row).toHaveLength(page.json.data.header.length);
    }
    const sentPage = await client.call("GET", "/user/alice/report/email/smtp/sent?matches=10");
    const row = Object.fromEntries(
      sentPage.json.data.header.map((h: string, i: number) => [h, sentPage.json.data.rows[0][i]]),
    );
    expect(row).toMatchObject({
      user: "alice",
      user_id: "163972",
      subject: "Hi F0",
      to: "r0@example.com",
      template_id: "330814",
      header1: "chid",
      header1_value: "2790_2790_ch1_0",
      header2: "rpid",
      header2_value: "M",
      header3: "offername",
      header3_value: "June Sales",
    });

    const jobs = await client.call("GET", "/user/alice/jobs");
    expect(jobs.json).toMatchObject({ success: 1, data: [] });

    const suppression = await client.call("GET", "/user/alice/suppression");
    expect(suppression.json.success).toBe(1);
    for (const entry of suppression.json.data) {
      expect(entry).toEqual([
        expect.stringMatching(/@example\.com$/),
        0,
        19172,
        expect.any(Number),
        "163972",
        expect.stringMatching(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/),
        expect.stringMatching(/^(Unsubscribe link used from |Feedback loop complaint)/),
      ]);
    }
    const deleted = await client.call("DELETE", "/user/alice/template/330814");
    expect(deleted.json).toEqual({ auth: expect.stringMatching(AUTH_VALUE), success: 1 });
    expect((await client.call("DELETE", "/user/alice/template/330814")).status).toBe(404);
  });
});

describe("auth", () => {
  it("accepts API and user scope with the right secret", async () => {
    expect((await new TestClient(sim.url).login()).status).toBe(200);
    expect((await new TestClient(sim.url).login(true)).status).toBe(200);
  });

  it("takes date as a JSON number (LuxSci's PHP client sends time()), signed over its decimal text", async () => {
    const date = Math.floor(Date.now() / 1000);
    const sign = (secret: string, text: string) =>
      createHmac("sha256", secret).update(text).digest("hex");
    const post = (body: unknown) =>
      fetch(`${sim.url}/auth`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      });
    const apiScope = {
      user: null,
      pass: null,
      token: ALICE.token,
      secret: null,
      debug: null,
      date,
      signature: sign(ALICE.secret, `${ALICE.token}\n${date}\n`),
    };
    const accepted = await post(apiScope);
    expect(accepted.status).toBe(200);
    expect(await accepted.json()).toMatchObject({ success: 1, auth: expect.any(String) });
    const userScope = await post({
      ...apiScope,
      user: ALICE.user,
      pass: ALICE.pass,
      signature: sign(ALICE.secret, `${ALICE.token}\n${date}\n${ALICE.user}\n${ALICE.pass}\n`),
    });
    expect(userScope.status).toBe(200);
    // Still signed for real: a wrong secret, or a signature over another date, is refused.
    for (const signature of [
      sign("not-the-secret", `${ALICE.token}\n${date}\n`),
      sign(ALICE.secret, `${ALICE.token}\n${date + 1}\n`),
    ]) {
      const refused = await post({ ...apiScope, signature });
      expect(refused.status).toBe(401);
      expect(await refused.json()).toMatchObject({ success: 0, error: "signature does not match" });
    }
    const stale = date - 3_600;
    const old = await post({
      ...apiScope,
      date: stale,
      signature: sign(ALICE.secret, `${ALICE.token}\n${stale}\n`),
    });
    expect(old.status).toBe(401);
  });

  it("error replies carry the message as error and as error_message", async () => {
    const wrong = await new TestClient(sim.url, ALICE, "not-the-secret").login();
    const client = new TestClient(sim.url);
    const replies = [
      wrong,
      await client.call("GET", "/user/bob/profile"),
      await client.call("GET", "/user/alice/nowhere"),
      await client.call("POST", "/user/alice/email/send", { messages: [] }),
    ];
    expect(replies.map((reply) => reply.status)).toEqual([401, 403, 404, 400]);
    for (const reply of replies) {
      expect(reply.json).toEqual({
        success: 0,
        error: expect.any(String),
        error_message: reply.json.error,
      });
    }
  });

  it("refuses a wrong secret at /auth and in the cookie", async () => {
    const wrong = new TestClient(sim.url, ALICE, "not-the-secret");
    const reply = await wrong.login();
    expect(reply.status).toBe(401);
    expect(reply.json).toMatchObject({ success: 0, error: expect.any(String) });
    const good = new TestClient(sim.url);
    await good.login();
    const forged = new TestClient(sim.url, ALICE, "not-the-secret");
    forged.auth = good.auth;
    expect((await forged.call("GET", "/user/alice/profile")).status).toBe(401);
  });

  it("refuses an expired auth", async () => {
    const client = new TestClient(sim.url);
    await client.login();
    sim.advanceClock(601);
    try {
      const reply = await client.call("GET", "/user/alice/profile");
      expect(reply.status).toBe(401);
      expect(reply.json.error).toMatch(/expired/);
      await client.login();
      expect((await client.call("GET", "/user/alice/profile")).status).toBe(200);
    } finally {
      sim.advanceClock(-601);
    }
  });

  it("refuses a tampered body, query or path, and another user's path", async () => {
    const client = new TestClient(sim.url);
    await client.login();
    const body = await client.call(
      "POST",
      "/user/alice/email/send",
      { messages: [message(1)] },
      (s) => ({
        path: s.path,
        body: s.body?.replace("r1@", "r2@"),
      }),
    );
    expect(body.status).toBe(401);
    const query = await client.call(
      "GET",
      "/user/alice/report/email/smtp/sent?matches=1",
      undefined,
      (s) => ({
        path: s.path.replace("matches=1", "matches=2"),
        body: undefined,
      }),
    );
    expect(query.status).toBe(401);
    const path = await client.call("GET", "/user/alice/profile", undefined, () => ({
      path: "/user/alice/jobs",
      body: undefined,
    }));
    expect(path.status).toBe(401);
    const bob = await client.call("GET", "/user/bob/profile");
    expect(bob.status).toBe(403);
    expect((await admin(sim.origin, "GET", "/ledger")).json.total).toBe(3);
  });
});
