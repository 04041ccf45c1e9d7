import { randomBytes } from "node:crypto";
import { encryptChannelSecret, newChannelId } from "@luxrelay/db";
import { DEMO_ACCOUNT, type Simulator, startSimulator } from "@luxrelay/luxsci-sim";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ChannelCredentials, createLuxSciAdapter, type LuxSciAdapter } from "../src/index.ts";

// The LuxSci adapter over real HTTP against the simulator: what both pipelines get from it.

let sim: Simulator;
let adapter: LuxSciAdapter;
const key = randomBytes(32);
const previous = randomBytes(32);

function channel(
  overrides: Partial<ChannelCredentials> = {},
  secret = DEMO_ACCOUNT.secret,
  secretKey = key,
): ChannelCredentials {
  const id = overrides.id ?? newChannelId();
  return {
    id,
    apiUrl: sim.url,
    luxsciUser: DEMO_ACCOUNT.user,
    luxsciToken: DEMO_ACCOUNT.token,
    luxsciSecretEnc: encryptChannelSecret("luxsciSecretEnc", secret, id, secretKey),
    luxsciPasswordEnc: null,
    apiRetries: 0,
    updatedAt: new Date("2026-12-08T00:00:00Z"),
    ...overrides,
  };
}

beforeAll(async () => {
  sim = await startSimulator({ seed: 15, accounts: [DEMO_ACCOUNT] });
  adapter = createLuxSciAdapter({
    secretKey: key,
    previousSecretKeys: [previous],
    retryBaseMs: 10,
    timeoutMs: 5000,
  });
});

afterAll(async () => {
  await adapter?.close();
  await sim?.close();
});

describe("the LuxSci adapter", () => {
  it("describes LuxSci: 1000 messages a call, unknown outcomes settled by the sent report", () => {
    expect(adapter).toMatchObject({
      type: "luxsci",
      maxBatchSize: 1000,
      unknownOutcome: "sent-report",
      eventSources: ["api", "export"],
    });
  });

  it("tests connectivity with the stored secret, under SECRET_KEY or a previous key", async () => {
    const ok = await adapter.testConnectivity(channel());
    expect(ok).toMatchObject({ ok: true });
    const rotated = await adapter.testConnectivity(channel({}, DEMO_ACCOUNT.secret, previous));
    expect(rotated).toMatchObject({ ok: true });
    const wrong = await adapter.testConnectivity(channel({}, "not-the-secret"));
    expect(wrong).toMatchObject({ ok: false, error: expect.stringMatching(/auth/i) });
    expect(JSON.stringify(wrong)).not.toContain("not-the-secret");
  });

  it("keeps one client per channel and flavour until the channel changes", () => {
    const row = channel();
    const api = adapter.client(row);
    expect(adapter.client(row)).toBe(api);
    const send = adapter.client(row, { forSend: true });
    expect(send).not.toBe(api);
    const changed = { ...row, updatedAt: new Date("2026-12-08T01:00:00Z") };
    expect(adapter.client(changed)).not.toBe(api);
    expect(adapter.client(changed, { forSend: true })).not.toBe(send);
  });
});
