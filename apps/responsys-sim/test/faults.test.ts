import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type ResponsysSimulator, startResponsysSimulator } from "../src/index.ts";
import { API, admin, call, login, mergeBody, triggerBody } from "./helpers.ts";

// /__sim/faults: what a client's retry policy must survive; the lost reply of a trigger that
// was sent is the case that must never be re-triggered blindly.
let sim: ResponsysSimulator;
let token: string;

beforeAll(async () => {
  sim = await startResponsysSimulator({ seed: 29 });
  token = (await login(sim.loginUrl)).json.authToken;
  await call(sim.endPoint, token, `${API}/lists/LIST/members`, mergeBody([["a@example.com", "c"]]));
});
afterEach(() => sim.clearFaults());
afterAll(() => sim.close());

const trigger = () =>
  call(sim.endPoint, token, `${API}/campaigns/C/email`, triggerBody(["a@example.com"]));

async function statuses(n: number): Promise<(number | "lost")[]> {
  const out: (number | "lost")[] = [];
  for (let i = 0; i < n; i++) {
    out.push(
      await trigger().then(
        (reply) => reply.status,
        () => "lost" as const,
      ),
    );
  }
  return out;
}

describe("faults", () => {
  it("injects 500s at a rate, the same sequence for the seed, nothing triggered", async () => {
    await admin(sim.adminUrl, "POST", "/faults", { route: "*/email", rate500: 0.5 });
    const before = sim.ledger().total;
    const one = await statuses(30);
    const failures = one.filter((s) => s === 500).length;
    expect(failures).toBeGreaterThan(5);
    expect(failures).toBeLessThan(25);
    expect(sim.ledger().total - before).toBe(30 - failures);
    await admin(sim.adminUrl, "POST", "/faults", { route: "*/email", rate500: 0.5 });
    expect(await statuses(30)).toEqual(one);
  });

  it("loses the reply after the trigger was handled: it is in the ledger", async () => {
    sim.setFault("POST /campaigns/*/email", { resetAfterRate: 1 });
    const before = sim.ledger().total;
    await expect(trigger()).rejects.toThrow();
    expect(sim.ledger().total).toBe(before + 1);
  });

  it("a reset before handling triggers nothing", async () => {
    sim.setFault("*", { resetRate: 1 });
    const before = sim.ledger().total;
    await expect(trigger()).rejects.toThrow();
    expect(sim.ledger().total).toBe(before);
  });
});
