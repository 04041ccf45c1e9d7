import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type ResponsysSimulator, startResponsysSimulator } from "../src/index.ts";
import { API, admin, call, login, mergeBody, triggerBody } from "./helpers.ts";

// Contract "Triggered email": per-recipient results in order, NO_RECIPIENT_FOUND (-1) for
// recipients not in the profile list, at most 200 a call, and a ledger of every trigger that
// counts duplicates (Responsys has no idempotency key).
let sim: ResponsysSimulator;
let token: string;

beforeAll(async () => {
  sim = await startResponsysSimulator({ seed: 17 });
});
beforeEach(async () => {
  sim.reset();
  token = (await login(sim.loginUrl)).json.authToken;
  await call(
    sim.endPoint,
    token,
    `${API}/lists/LIST/members`,
    mergeBody([
      ["ann@example.com", "c1"],
      ["bob@example.com", "c2"],
    ]),
  );
});
afterAll(() => sim.close());

const trigger = (body: unknown, campaign = "WELCOME") =>
  call(sim.endPoint, token, `${API}/campaigns/${campaign}/email`, body);

describe("campaign trigger", () => {
  it("answers per recipient, NO_RECIPIENT_FOUND for an unknown one", async () => {
    const riids = sim.profiles("LIST").map((p) => Number(p.RIID_));
    const reply = await trigger(
      triggerBody(["ann@example.com", "nobody@example.com", "BOB@example.com"]),
    );
    expect(reply.status).toBe(200);
    expect(reply.json).toEqual([
      { errorMessage: null, success: true, recipientId: riids[0] },
      { errorMessage: "NO_RECIPIENT_FOUND: Recipient Not Found", success: false, recipientId: -1 },
      { errorMessage: null, success: true, recipientId: riids[1] },
    ]);
    expect(sim.ledger()).toEqual({ total: 2, duplicates: 0, duplicateKeys: 0 });
    expect(sim.ledgerEntries("WELCOME")[0]).toMatchObject({
      emailAddress: "ann@example.com",
      optionalData: { FIRST_NAME: "Ann" },
    });
  });

  it("finds a known address without listName, not an unknown one", async () => {
    const reply = await trigger(triggerBody(["ann@example.com", "zed@example.com"], null));
    expect(reply.json.map((r: { success: boolean }) => r.success)).toEqual([true, false]);
  });

  it("counts the same recipient and campaign triggered twice as a duplicate", async () => {
    await trigger(triggerBody(["ann@example.com"]));
    await trigger(triggerBody(["ann@example.com", "bob@example.com"]));
    await trigger(triggerBody(["ann@example.com"]), "OTHER");
    expect(sim.ledger()).toEqual({ total: 4, duplicates: 1, duplicateKeys: 1 });
    const over = await admin(sim.adminUrl, "GET", "/ledger/duplicates");
    expect(over.json).toEqual([
      expect.objectContaining({ campaign: "WELCOME", emailAddress: "ann@example.com", count: 2 }),
    ]);
  });

  it("takes 200 recipients and refuses 201 whole", async () => {
    const emails = (n: number) => Array.from({ length: n }, () => "ann@example.com");
    const ok = await trigger(triggerBody(emails(200)));
    expect(ok.status).toBe(200);
    expect(ok.json).toHaveLength(200);
    const refused = await trigger(triggerBody(emails(201)));
    expect(refused.status).toBe(400);
    expect(refused.json.errorCode).toBe("RECIPIENT_LIMIT_EXCEEDED");
    expect(sim.ledger().total).toBe(200);
  });

  it("refuses unescaped non-ASCII in the body, accepts it escaped", async () => {
    const body = triggerBody(["ann@example.com"]);
    const text = JSON.stringify(body).replace('"Ann"', '"Zoë"');
    const raw = await trigger(text);
    expect(raw.status).toBe(400);
    expect(raw.json.errorCode).toBe("INVALID_REQUEST_CONTENT");
    const escaped = await trigger(text.replace("ë", "\\u00eb"));
    expect(escaped.status).toBe(200);
    expect(sim.ledgerEntries()[0]?.optionalData.FIRST_NAME).toBe("Zoë");
  });
});
