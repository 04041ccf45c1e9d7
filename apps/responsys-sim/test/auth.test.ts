import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ResponsysSimulator, startResponsysSimulator } from "../src/index.ts";
import { API, admin, call, login, mergeBody, refresh } from "./helpers.ts";

// Contract "Authentication": password login on the login host, every later call on the
// returned endPoint (another port), the raw token in Authorization, expiry and refresh.
let sim: ResponsysSimulator;

beforeAll(async () => {
  sim = await startResponsysSimulator({ seed: 3, tokenTtlSeconds: 600 });
});
afterAll(() => sim.close());

const merge = (token: string, host = sim.endPoint) =>
  call(host, token, `${API}/lists/LIST/members`, mergeBody([["a@example.com", "c1"]]));

describe("auth", () => {
  it("logs in on the login host and answers an endPoint on another port", async () => {
    const reply = await login(sim.loginUrl);
    expect(reply.status).toBe(200);
    expect(reply.json).toEqual({
      authToken: expect.any(String),
      issuedAt: expect.any(Number),
      endPoint: sim.endPoint,
    });
    expect(Math.abs(reply.json.issuedAt - Date.now())).toBeLessThan(5_000);
    expect(new URL(reply.json.endPoint).port).not.toBe(new URL(sim.loginUrl).port);
    expect((await merge(reply.json.authToken)).status).toBe(200);
    // The login host has no API functions: a client must call the endPoint.
    const wrongHost = await merge(reply.json.authToken, sim.loginUrl);
    expect(wrongHost.status).toBe(404);
    expect(wrongHost.json.errorCode).toBe("RESOURCE_NOT_FOUND");
  });

  it("refuses a wrong password with INVALID_USER_NAME_PASSWORD", async () => {
    const reply = await login(sim.loginUrl, { user: "demo", password: "nope" });
    expect(reply.status).toBe(400);
    expect(reply.json).toMatchObject({ errorCode: "INVALID_USER_NAME_PASSWORD", type: "" });
    expect(reply.json.errorDetails).toEqual([]);
  });

  it("refuses an expired token with INVALID_TOKEN, then a new login works", async () => {
    const { json } = await login(sim.loginUrl);
    sim.advanceClock(601);
    const refused = await merge(json.authToken);
    expect(refused.status).toBe(401);
    expect(refused.json).toEqual({
      type: "",
      title: "Not a valid token",
      errorCode: "INVALID_TOKEN",
      detail: "Not a valid authentication token",
      errorDetails: [],
    });
    const again = await login(sim.loginUrl);
    expect((await merge(again.json.authToken)).status).toBe(200);
  });

  it("refreshes a live token with auth_type=token, not an expired one", async () => {
    const { json } = await login(sim.loginUrl);
    const refreshed = await refresh(sim.loginUrl, json.authToken);
    expect(refreshed.status).toBe(200);
    expect(refreshed.json.authToken).not.toBe(json.authToken);
    expect(refreshed.json.endPoint).toBe(sim.endPoint);
    expect((await merge(refreshed.json.authToken)).status).toBe(200);
    await admin(sim.adminUrl, "POST", "/tokens", { expireAll: true });
    const late = await refresh(sim.endPoint, refreshed.json.authToken);
    expect(late.status).toBe(401);
    expect(late.json.errorCode).toBe("INVALID_TOKEN");
  });

  it("refuses a token sent as Bearer and a call without one", async () => {
    const { json } = await login(sim.loginUrl);
    expect((await merge(`Bearer ${json.authToken}`)).json.errorCode).toBe("INVALID_TOKEN");
    expect((await merge("")).status).toBe(401);
  });
});
