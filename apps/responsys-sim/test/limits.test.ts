import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ResponsysSimulator, startResponsysSimulator } from "../src/index.ts";
import { API, admin, call, login, mergeBody, triggerBody } from "./helpers.ts";

// Contract "Errors and limits": per-function limits per minute, API_LIMIT_EXCEEDED answered
// as 401 (Oracle's FAQ) or 429 (clients handle both); another function is not held.
let sim: ResponsysSimulator;
let token: string;

beforeAll(async () => {
  sim = await startResponsysSimulator({ seed: 23, rateLimits: { mergeListMembers: 2 } });
  token = (await login(sim.loginUrl)).json.authToken;
});
afterAll(() => sim.close());

const merge = () =>
  call(sim.endPoint, token, `${API}/lists/LIST/members`, mergeBody([["a@example.com", "c"]]));

describe("rate limits", () => {
  it("answers API_LIMIT_EXCEEDED as 401 once a function's limit is used", async () => {
    expect((await merge()).status).toBe(200);
    expect((await merge()).status).toBe(200);
    const limited = await merge();
    expect(limited.status).toBe(401);
    expect(limited.json).toMatchObject({ errorCode: "API_LIMIT_EXCEEDED", type: "" });
    // Another function is not held, and the token is still good.
    const trigger = await call(
      sim.endPoint,
      token,
      `${API}/campaigns/C/email`,
      triggerBody(["a@example.com"]),
    );
    expect(trigger.status).toBe(200);
    sim.advanceClock(61);
    expect((await merge()).status).toBe(200);
  });

  it("answers 429 when configured so (admin API)", async () => {
    sim.advanceClock(61);
    const set = await admin(sim.adminUrl, "POST", "/rate-limits", {
      status: 429,
      limits: { triggerEmail: 1 },
    });
    expect(set.json).toEqual({ limits: { mergeListMembers: 2, triggerEmail: 1 }, status: 429 });
    const body = triggerBody(["a@example.com"]);
    const path = `${API}/campaigns/C/email`;
    expect((await call(sim.endPoint, token, path, body)).status).toBe(200);
    const limited = await call(sim.endPoint, token, path, body);
    expect(limited.status).toBe(429);
    expect(limited.json.errorCode).toBe("API_LIMIT_EXCEEDED");
    const listed = await call(sim.endPoint, token, "/rest/api/ratelimit", undefined, "GET");
    expect(listed.json).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ api: "triggerEmail", limit: 1, verb: "POST" }),
      ]),
    );
  });
});
