import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  createTestDatabase,
  createTestQueues,
  freePort,
  REPO_ROOT,
  type TestDatabase,
  type TestQueues,
} from "@luxrelay/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

// `npm run demo`, one of the README's two commands, as a user runs it: twice against the same
// database (the second run must bring its own events back, not take them for the first's).

let db: TestDatabase;
let queues: TestQueues;
let stateDir: string;
/** A demo still running when the test ends (it failed or timed out) is stopped in afterAll. */
const running = new Set<ChildProcess>();

beforeAll(async () => {
  db = await createTestDatabase();
  queues = createTestQueues();
  stateDir = mkdtempSync(join(tmpdir(), "luxrelay-demo-test-"));
});

afterAll(async () => {
  // SIGTERM: the demo stops the processes it started, then exits; SIGKILL if it does not.
  await Promise.all(
    [...running].map(
      (child) =>
        new Promise((resolve) => {
          const force = setTimeout(() => child.kill("SIGKILL"), 20_000);
          child.once("exit", () => {
            clearTimeout(force);
            resolve(undefined);
          });
          child.kill("SIGTERM");
        }),
    ),
  );
  await db?.drop();
  await queues?.cleanup();
  rmSync(stateDir, { recursive: true, force: true });
});

async function runDemo(): Promise<{ code: number | null; output: string; seconds: number }> {
  const started = performance.now();
  const [producerPort, dashboardPort, simPort] = [
    await freePort(),
    await freePort(),
    await freePort(),
  ];
  const child = spawn(
    process.execPath,
    [
      "--import",
      "tsx",
      "apps/demo/src/main.ts",
      "--contacts",
      "400",
      "--sim-port",
      String(simPort),
    ],
    {
      cwd: REPO_ROOT,
      env: {
        ...process.env,
        DATABASE_URL: db.url,
        QUEUE_PREFIX: queues.prefix,
        PRODUCER_PORT: String(producerPort),
        DASHBOARD_PORT: String(dashboardPort),
        STATE_DIR: stateDir,
      },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  running.add(child);
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
  running.delete(child);
  return { code, output, seconds: Math.round((performance.now() - started) / 1000) };
}

/** The counts of the demo's last line about events synced back. */
function syncedCounts(output: string): Record<string, number> {
  const line = output.split("\n").find((text) => text.includes("events synced back"));
  expect(line, output).toBeDefined();
  const counts: Record<string, number> = {};
  for (const [, name, value] of (line ?? "").matchAll(/(sent|delivered|opened|clicked) (\d+)/g)) {
    counts[name as string] = Number(value);
  }
  return counts;
}

describe("npm run demo", () => {
  it("sends a campaign and syncs its events back, and does so again when run twice", async () => {
    for (let run = 1; run <= 2; run++) {
      const { code, output, seconds } = await runDemo();
      expect(code, `run ${run} (${seconds} s):\n${output}`).toBe(0);
      const ledger = /simulator ledger: (\{.*\})/.exec(output)?.[1];
      const { total, duplicates } = JSON.parse(ledger ?? "{}") as Record<string, number>;
      expect(duplicates).toBe(0);
      expect(total).toBeGreaterThan(0);
      const counts = syncedCounts(output);
      // Every message the simulator accepted comes back as a sent event, in this run too.
      expect(counts.sent).toBe(total);
      expect(counts.delivered).toBeGreaterThan(0);
      expect(counts.opened).toBeGreaterThan(0);
      expect(output).toMatch(/dashboard: http:\/\/127\.0\.0\.1:\d+\//);
    }
  }, 240_000);
});
