import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type Simulator, startSimulator } from "../src/index.ts";
import { ALICE, admin, message, TestClient } from "./helpers.ts";

// POST /email/send: the contract's limits (400 with a clear message), the merge of template
// + template_data (raw and escaped), and the ledger (counts, duplicates, merged content).
let sim: Simulator;
let client: TestClient;

beforeAll(async () => {
  sim = await startSimulator({ seed: 3, accounts: [ALICE] });
  client = new TestClient(sim.url);
});
afterAll(() => sim.close());
beforeEach(() => sim.reset());

const send = (messages: unknown[]) => client.call("POST", "/user/alice/email/send", { messages });

describe("limits", () => {
  it.each([
    ["1001 messages", Array.from({ length: 1001 }, (_, i) => message(i)), /at most 1000/],
    [
      "101 recipients",
      [
        message(0, {
          to: Array.from({ length: 60 }, (_, i) => `a${i}@x.com`),
          cc: Array.from({ length: 41 }, (_, i) => `c${i}@x.com`),
        }),
      ],
      /101 recipients.*at most 100/,
    ],
    [
      "11 headers",
      [message(0, { headers: Array.from({ length: 11 }, (_, i) => [`h${i}`, "v"]) })],
      /11 headers, at most 10/,
    ],
    ["a long subject", [message(0, { subject: "s".repeat(1001) })], /subject is 1001 characters/],
    ["a long from_name", [message(0, { from_name: "n".repeat(101) })], /from_name is 101/],
    [
      "CR/LF in a header",
      [message(0, { headers: [["x", "a\r\nBcc: evil@example.com"]] })],
      /CR or LF/,
    ],
    ["an unknown template", [message(0, { template: "999" })], /unknown template 999/],
  ])("refuses %s with 400 and records nothing", async (_name, messages, error) => {
    const reply = await send(messages);
    expect(reply.status).toBe(400);
    expect(reply.json).toMatchObject({ success: 0, error: expect.stringMatching(error) });
    expect(sim.ledger().total).toBe(0);
  });

  it("accepts exactly 1000 messages, 100 recipients and 10 headers", async () => {
    const many = Array.from({ length: 1000 }, (_, i) => message(i));
    many[0] = message(0, {
      to: Array.from({ length: 100 }, (_, i) => `a${i}@x.com`),
      headers: Array.from({ length: 10 }, (_, i) => [i === 0 ? "chid" : `h${i}`, "v"]),
    });
    const reply = await send(many);
    expect(reply.status).toBe(200);
    expect(reply.json.data).toHaveLength(1000);
    expect(new Set(reply.json.data).size).toBe(1000);
  });
});

describe("merge", () => {
  it("fills template_data raw and HTML-escaped", async () => {
    const template = await client.call("PUT", "/user/alice/templates", {
      template_id: 0,
      title: "T",
      subject: "Hi {{ FirstName }} & co",
      body_html: "<p>{{FirstName}}</p>{{c64.1_dyc_html}}<i>{{missing}}</i>",
      body_text: "Dear {{FirstName}}, id {{RPContactID}}",
      format: "both",
    });
    const id = template.json.data.template_id;
    const data = { FirstName: "Tom & <Jerry>", "c64.1_dyc_html": "<b>x</b>", RPContactID: 1380076 };
    const reply = await send([
      message(0, { subject: null, template: id, template_data: data, template_data_raw: 1 }),
      message(1, { subject: null, template: id, template_data: data, template_data_raw: 0 }),
    ]);
    const [raw, escaped] = reply.json.data;
    expect(sim.mergedMessage(raw)).toEqual({
      subject: "Hi Tom & <Jerry> & co",
      html: "<p>Tom & <Jerry></p><b>x</b><i></i>",
      text: "Dear Tom & <Jerry>, id 1380076",
    });
    const fetched = await admin(sim.origin, "GET", `/messages/${escaped}`);
    expect(fetched.json.merged).toEqual({
      subject: "Hi Tom & <Jerry> & co",
      html: "<p>Tom &amp; &lt;Jerry&gt;</p>&lt;b&gt;x&lt;/b&gt;<i></i>",
      text: "Dear Tom & <Jerry>, id 1380076",
    });
    expect(fetched.json.entry).toMatchObject({
      sendmailId: escaped,
      chid: "2790_2790_ch1_1",
      templateId: id,
      mergedHash: expect.stringMatching(/^[0-9a-f]{32}$/),
    });
  });
});

describe("ledger", () => {
  it("counts entries and duplicates (same to + chid twice), and finds them by chid", async () => {
    await send([message(1), message(2), message(3)]);
    await send([message(3), message(4)]);
    await send([message(3)]);
    const summary = await admin(sim.origin, "GET", "/ledger?chid=2790_2790_ch1_3");
    expect(summary.json).toMatchObject({ total: 6, duplicates: 2, duplicateKeys: 1 });
    expect(summary.json.entries).toHaveLength(3);
    expect(summary.json.entries[0]).toMatchObject({
      to: "r3@example.com",
      headers: [
        ["chid", "2790_2790_ch1_3"],
        ["offername", "June Sales"],
        ["rpid", "M"],
      ],
    });
    expect(sim.duplicates()).toEqual([{ chid: "2790_2790_ch1_3", to: "r3@example.com", count: 3 }]);
    const perChid = await admin(sim.origin, "GET", "/ledger?perChid=1");
    expect(perChid.json.perChid["2790_2790_ch1_3"]).toBe(3);
    await admin(sim.origin, "POST", "/reset");
    expect(sim.ledger()).toEqual({ total: 0, sandbox: 0, duplicates: 0, duplicateKeys: 0 });
  });

  it("the same address under another chid, or the same chid to another address, is no duplicate", async () => {
    await send([message(1), message(1, { to: "other@example.com" })]);
    await send([message(1, { headers: [["chid", "2790_2790_ch1_other"]] })]);
    expect(sim.ledger()).toMatchObject({ total: 3, duplicates: 0 });
    // 5,000 distinct pairs then the same 5,000 again: the compact pair index stays exact.
    const batch = (from: number) => Array.from({ length: 1000 }, (_, i) => message(from + i));
    for (let b = 0; b < 5; b++) await send(batch(100 + b * 1000));
    expect(sim.ledger()).toMatchObject({ total: 5003, duplicates: 0, duplicateKeys: 0 });
    for (let b = 0; b < 5; b++) await send(batch(100 + b * 1000));
    expect(sim.ledger()).toMatchObject({ total: 10003, duplicates: 5000, duplicateKeys: 5000 });
  });

  it("sandbox: 1 gives ids, is counted apart, and never reaches a report", async () => {
    const reply = await client.call("POST", "/user/alice/email/send", {
      messages: [message(1), message(2)],
      sandbox: 1,
    });
    expect(reply.json.data).toHaveLength(2);
    sim.settleEvents(); // moves the clock past every event, and past the auth's validity
    await client.login();
    expect(sim.ledger()).toMatchObject({ total: 2, sandbox: 2, duplicates: 0 });
    const sent = await client.call(
      "GET",
      "/user/alice/report/email/smtp/sent?first_row=0&matches=10",
    );
    expect(sent.json).toMatchObject({ success: 1 });
    expect(sent.json.data.matches_total).toBe(0);
  });
});
