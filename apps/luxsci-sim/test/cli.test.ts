import { type SimProcess, startSimulatorProcess } from "@luxrelay/testkit";
import { request } from "undici";
import { afterEach, describe, expect, it } from "vitest";

// `npm run sim` as a process: LuxSci never hands out a sendmail id twice, and a simulator
// restarted against a database that kept its last run's events must not either, or luxrelay
// takes the new run's events for ones it already has (the demo, run twice, lost them).

// Every start, awaited here too: one still starting when another failed is stopped as well.
const starts: Promise<SimProcess>[] = [];
afterEach(async () => {
  for (const start of await Promise.allSettled(starts.splice(0))) {
    if (start.status === "fulfilled") start.value.stop();
  }
});

async function firstSendmailIds(args: string[]): Promise<{ seed: number; ids: string }> {
  const starting = startSimulatorProcess(args);
  starts.push(starting);
  const sim = await starting;
  const reply = await request(`${sim.origin}/__sim/seed`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ count: 3 }),
  });
  const body = (await reply.body.json()) as { first: string; last: string };
  return { seed: sim.seed, ids: `${body.first}..${body.last}` };
}

describe("luxsci-sim command line", () => {
  it("takes a new seed each start, so its sendmail ids never repeat the last run's", async () => {
    const [one, two] = await Promise.all([firstSendmailIds([]), firstSendmailIds([])]);
    expect(one.seed).not.toBe(two.seed);
    expect(one.ids).not.toBe(two.ids);
  });

  it("--report-lag-ms sets the report lag", async () => {
    const starting = startSimulatorProcess(["--report-lag-ms", "5000"]);
    starts.push(starting);
    const sim = await starting;
    const reply = await request(`${sim.origin}/__sim/report-lag`);
    expect(await reply.body.json()).toMatchObject({ reportLagMs: 5000 });
  });

  it("repeats a run's ids when told its seed", async () => {
    const [one, two] = await Promise.all([
      firstSendmailIds(["--seed", "7"]),
      firstSendmailIds(["--seed", "7"]),
    ]);
    expect([one.seed, two.seed]).toEqual([7, 7]);
    expect(one.ids).toBe(two.ids);
  });
});
