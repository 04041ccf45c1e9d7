import { request } from "undici";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type Simulator, startSimulator } from "../src/index.ts";
import { ALICE, admin, message, TestClient } from "./helpers.ts";

// /__sim/faults: what the client's retry policy must survive (seed 000's retryable list).
let sim: Simulator;
let client: TestClient;

beforeAll(async () => {
  sim = await startSimulator({ seed: 5, accounts: [ALICE] });
  client = new TestClient(sim.url);
  await client.login();
});
afterAll(() => sim.close());
afterEach(async () => {
  await admin(sim.origin, "DELETE", "/faults");
});

const profile = () => client.call("GET", "/user/alice/profile");
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("faults", () => {
  it("429 carries Retry-After", async () => {
    await admin(sim.origin, "POST", "/faults", {
      route: "GET /user/alice/profile",
      rate429: 1,
      retryAfterSeconds: 7,
    });
    const reply = await profile();
    expect(reply.status).toBe(429);
    expect(reply.headers["retry-after"]).toBe("7");
    expect(reply.json).toMatchObject({ success: 0 });
  });

  it("503 injected at a rate, deterministic for the seed", async () => {
    await admin(sim.origin, "POST", "/faults", { route: "*/profile", rate503: 0.5 });
    const statuses: number[] = [];
    for (let i = 0; i < 40; i++) statuses.push((await profile()).status);
    const failures = statuses.filter((s) => s === 503).length;
    expect(failures).toBeGreaterThan(8);
    expect(failures).toBeLessThan(32);
    // Same route, same seed: the same sequence again.
    await admin(sim.origin, "POST", "/faults", { route: "*/profile", rate503: 0.5 });
    const again: number[] = [];
    for (let i = 0; i < 40; i++) again.push((await profile()).status);
    expect(again).toEqual(statuses);
  });

  it("400 refuses the call as invalid and records nothing", async () => {
    await admin(sim.origin, "POST", "/faults", { route: "*/email/send", rate400: 1 });
    const before = sim.ledger().total;
    const reply = await client.call("POST", "/user/alice/email/send", {
      messages: [{ from_address: "a@b.c", to: ["x@y.z"], subject: "s", body: "b" }],
    });
    expect(reply.status).toBe(400);
    expect(reply.json).toMatchObject({ success: 0, error: expect.stringContaining("invalid") });
    expect(sim.ledger().total).toBe(before);
  });

  it("malformed JSON", async () => {
    await admin(sim.origin, "POST", "/faults", { route: "*", malformedRate: 1 });
    const reply = await profile();
    expect(reply.status).toBe(200);
    expect(reply.json).toBeUndefined();
    expect(() => JSON.parse(reply.text)).toThrow();
  });

  it("reset destroys the socket; hang never answers", async () => {
    await admin(sim.origin, "POST", "/faults", { route: "*", resetRate: 1 });
    await expect(profile()).rejects.toThrow();
    await admin(sim.origin, "POST", "/faults", { route: "*", hangRate: 1 });
    await expect(request(`${sim.url}/user/alice/profile`, { headersTimeout: 300 })).rejects.toThrow(
      /timeout/i,
    );
  });

  it("latency delays the answer", async () => {
    await admin(sim.origin, "POST", "/faults", { route: "*", latencyMs: 200 });
    const started = performance.now();
    expect((await profile()).status).toBe(200);
    expect(performance.now() - started).toBeGreaterThanOrEqual(190);
  });

  it("an rpm cap answers 429 past N requests a minute", async () => {
    await admin(sim.origin, "POST", "/faults", { route: "*", rpm: 5 });
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++) statuses.push((await profile()).status);
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429, 429]);
    const limited = await profile();
    expect(Number(limited.headers["retry-after"])).toBeGreaterThanOrEqual(1);
  });

  it("401 as a limit: a LuxSci-shaped error, no Retry-After", async () => {
    await admin(sim.origin, "POST", "/faults", { route: "*/profile", rate401: 1 });
    const reply = await profile();
    expect(reply.status).toBe(401);
    expect(reply.json).toEqual({
      success: 0,
      error: expect.stringContaining("401"),
      error_message: reply.json.error,
    });
    expect(reply.headers["retry-after"]).toBeUndefined();
  });

  it("acceptLate: handles a send after the client timed out and closed the socket", async () => {
    const before = sim.ledger().total;
    await admin(sim.origin, "POST", "/faults", {
      route: "*/email/send",
      acceptLateRate: 1,
      acceptLateMs: 400,
    });
    const send = () =>
      client.call("POST", "/user/alice/email/send", { messages: [message(1), message(2)] });
    client.timeoutMs = 100;
    try {
      await expect(send()).rejects.toThrow(/timeout/i);
    } finally {
      client.timeoutMs = undefined;
    }
    // The client has given up; the server still holds the call, then takes it in.
    expect(sim.ledger().total).toBe(before);
    for (let waited = 0; sim.ledger().total === before && waited < 3000; waited += 50) {
      await sleep(50);
    }
    expect(sim.ledger().total).toBe(before + 2);
    // A client that waits long enough gets the answer.
    const started = performance.now();
    const reply = await send();
    expect(reply.status).toBe(200);
    expect(reply.json.data).toHaveLength(2);
    expect(performance.now() - started).toBeGreaterThanOrEqual(390);
    expect(sim.ledger().total).toBe(before + 4);
  });

  it("acceptLateRate needs acceptLateMs", async () => {
    const bad = await admin(sim.origin, "POST", "/faults", { route: "*", acceptLateRate: 1 });
    expect(bad.status).toBe(400);
    expect(bad.json.error).toMatch(/acceptLateMs/);
  });

  it("the Date header is the simulated clock's, on success, error and injected replies", async () => {
    sim.advanceClock(-3600);
    try {
      const hourAgo = Date.now() - 3_600_000;
      const dateOf = (reply: { headers: Record<string, unknown> }) =>
        Date.parse(String(reply.headers.date));
      const ok = await profile();
      expect(ok.status).toBe(200);
      expect(Math.abs(dateOf(ok) - hourAgo)).toBeLessThan(5_000);
      const unknown = await client.call("GET", "/user/alice/nothing-here");
      expect(unknown.status).toBe(404);
      expect(Math.abs(dateOf(unknown) - hourAgo)).toBeLessThan(5_000);
      const unsigned = await request(`${sim.url}/user/alice/profile`);
      await unsigned.body.text();
      expect(unsigned.statusCode).toBe(401);
      expect(Math.abs(Date.parse(String(unsigned.headers.date)) - hourAgo)).toBeLessThan(5_000);
      await admin(sim.origin, "POST", "/faults", { route: "*/profile", rate503: 1 });
      const injected = await profile();
      expect(injected.status).toBe(503);
      expect(String(injected.headers.date)).toMatch(/^\w{3}, \d{2} \w{3} \d{4} [\d:]{8} GMT$/);
      expect(Math.abs(dateOf(injected) - hourAgo)).toBeLessThan(5_000);
    } finally {
      sim.advanceClock(3600);
      // The auth values issued an hour back have expired on the restored clock.
      await client.login();
    }
  });

  it("refuses a bad fault body; DELETE clears", async () => {
    const bad = await admin(sim.origin, "POST", "/faults", { route: "*", rate503: 2 });
    expect(bad.status).toBe(400);
    expect(bad.json.error).toMatch(/rate503/);
    await admin(sim.origin, "POST", "/faults", { route: "*", rate503: 1 });
    expect((await profile()).status).toBe(503);
    await admin(sim.origin, "DELETE", "/faults");
    expect((await profile()).status).toBe(200);
  });
});
