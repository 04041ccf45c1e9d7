import { createHmac } from "node:crypto";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  LuxSciAuthError,
  LuxSciClient,
  type LuxSciClientOptions,
  LuxSciMaxJobsError,
  type LuxSciMessage,
  LuxSciRequestError,
  LuxSciRetryableError,
  LuxSciValidationError,
  type ReportKind,
} from "../src/index.ts";
import { type CountingProxy, startCountingProxy } from "./helpers/counting-proxy.ts";
import {
  type SimAccount,
  type SimHandle,
  simAdmin,
  simAvailable,
  startSim,
} from "./helpers/sim.ts";

// The client against apps/luxsci-sim over real HTTP: a separate implementation of the
// contract (signatures, auth rotation, paging, export, faults). A counting proxy sits in
// between so "exactly one request" and "no request" don't depend on the ledger's format.
const account: SimAccount = {
  user: "alice",
  pass: "alice-pw-1",
  token: "tok-alice",
  secret: "sim-secret-0123456789",
};
let sim: SimHandle;
let proxy: CountingProxy;
let admin: ReturnType<typeof simAdmin>;
const clients: LuxSciClient[] = [];

function makeClient(options: Partial<LuxSciClientOptions> = {}): LuxSciClient {
  const { pass: _pass, ...credentials } = account;
  const client = new LuxSciClient({
    baseUrl: proxy.url,
    ...credentials,
    retryBaseMs: 2,
    timeoutMs: 2_000,
    ...options,
  });
  clients.push(client);
  return client;
}

const message = (i: number): LuxSciMessage => ({
  from_address: "dev@example.com",
  from_name: "Dev",
  to: [`r${i}@example.com`],
  subject: "Hello",
  body: "<p>Hi</p>",
  headers: [["chid", `9_9_ch_${i}`]],
});

async function caught(promise: Promise<unknown>): Promise<Error> {
  const result = await promise.then(
    () => undefined,
    (error: unknown) => error,
  );
  expect(result).toBeInstanceOf(Error);
  return result as Error;
}

describe.skipIf(!simAvailable)("against the simulator", () => {
  beforeAll(async () => {
    sim = await startSim({ seed: 42, accounts: [account], authValiditySeconds: 600, maxJobs: 2 });
    proxy = await startCountingProxy(sim.url);
    admin = simAdmin(sim);
  });

  afterEach(async () => {
    await admin.clearFaults();
    proxy.counts.clear();
    await Promise.all(clients.splice(0).map((client) => client.close()));
  });

  afterAll(async () => {
    await proxy?.close();
    await sim?.close();
  });

  it("profile, template create/delete, send: one sendmail id per message", async () => {
    const client = makeClient();
    expect(await client.getProfile()).toBeTypeOf("object");
    const id = await client.createTemplate({
      title: "LR_T1",
      subject: "Hi {{name}}",
      body_html: "<p>{{name}}</p>",
      format: "html",
    });
    const ids = await client.sendEmail(
      [0, 1, 2].map((i) => ({ ...message(i), template: id, template_data: { name: `n${i}` } })),
    );
    expect(ids).toHaveLength(3);
    expect(new Set(ids).size).toBe(3);
    expect(await client.deleteTemplate(id)).toBe(true);
    // Already gone: false at once (a 404 here is final, not retried ten times).
    const started = performance.now();
    expect(await client.deleteTemplate(id)).toBe(false);
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it.each<ReportKind>(["sent", "delivery", "opens", "clicks", "fbl"])(
    "%s report rows are keyed by header",
    async (kind) => {
      const page = await makeClient().getReport(kind, {
        afterDate: new Date(Date.now() - 86_400_000),
        matches: 100,
      });
      expect(page.header.length).toBeGreaterThan(0);
      for (const row of page.rows) expect(Object.keys(row)).toEqual(page.header);
    },
  );

  it("user-scope auth works; a wrong secret is LuxSciAuthError after one re-auth, secret-free", async () => {
    await expect(makeClient({ password: account.pass }).getProfile()).resolves.toBeDefined();
    const error = await caught(makeClient({ secret: "not-the-secret-xyz" }).getProfile());
    expect(error).toBeInstanceOf(LuxSciAuthError);
    expect(proxy.count("POST", "/auth")).toBe(3);
    expect(error.message).not.toContain("not-the-secret-xyz");
  });

  it("a tampered request is refused", async () => {
    const date = String(Math.floor(Date.now() / 1000));
    const signature = createHmac("sha256", account.secret)
      .update(`${account.token}\n${date}\n`)
      .digest("hex");
    const authReply = await fetch(`${sim.url}/auth`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        user: null,
        pass: null,
        token: account.token,
        secret: null,
        debug: null,
        date,
        signature,
      }),
    });
    const { auth } = (await authReply.json()) as { auth: string };
    const path = new URL(`${sim.url}/user/alice/profile`).pathname;
    const good = createHmac("sha256", account.secret)
      .update(`${auth}\nGET\n${path}\n\n\n`)
      .digest("hex");
    // Signed for /profile, sent to /jobs: the simulator must recompute and refuse.
    const tampered = await fetch(`${sim.url}/user/alice/jobs`, {
      headers: { cookie: `signature=${auth}:${good}` },
    });
    expect(tampered.status).toBe(401);
  });

  it.each([
    ["503", { rate503: 1 }],
    ["502", { rate502: 1 }],
    ["504", { rate504: 1 }],
    ["429", { rate429: 1, retryAfterSeconds: 0 }],
    ["reset", { resetRate: 1 }],
    ["hang", { hangRate: 1 }],
    ["malformed JSON", { malformedRate: 1 }],
  ])("%s is retried and then succeeds", async (_name, fault) => {
    const client = makeClient({ timeoutMs: 300 });
    await client.getProfile();
    await admin.setFault("GET /user/alice/profile", fault);
    // Lift the fault after the first failures land; the client's retries then succeed.
    const lifted = new Promise((resolve) => setTimeout(resolve, 150)).then(() =>
      admin.clearFaults(),
    );
    await expect(client.getProfile()).resolves.toBeDefined();
    await lifted;
    expect(proxy.count("GET", "/profile")).toBeGreaterThan(2);
  });

  it("always 503: exactly 10 attempts, then LuxSciRetryableError", async () => {
    const client = makeClient({ retryBaseMs: 1 });
    await client.getProfile();
    proxy.counts.clear();
    await admin.setFault("GET /user/alice/profile", { rate503: 1 });
    const error = await caught(client.getProfile());
    expect(error).toBeInstanceOf(LuxSciRetryableError);
    expect(error).toMatchObject({ attempts: 10, status: 503 });
    expect(proxy.count("GET", "/profile")).toBe(10);
  });

  it("a 400 is not retried", async () => {
    const client = makeClient();
    await client.getProfile();
    proxy.counts.clear();
    // An unknown format is something only LuxSci checks.
    const error = await caught(
      client.createTemplate({ title: "x", subject: "y", format: "bogus" as "html" }),
    );
    expect(error).toBeInstanceOf(LuxSciRequestError);
    expect(error).toMatchObject({ status: 400, attempts: 1 });
    expect(proxy.count("PUT", "/templates")).toBe(1);
  });

  it("Retry-After is honoured", async () => {
    const client = makeClient();
    await client.getProfile();
    await admin.setFault("GET /user/alice/profile", { rate429: 1, retryAfterSeconds: 1 });
    const started = performance.now();
    const lifted = new Promise((resolve) => setTimeout(resolve, 200)).then(() =>
      admin.clearFaults(),
    );
    await client.getProfile();
    await lifted;
    expect(performance.now() - started).toBeGreaterThanOrEqual(990);
  });

  it("local validation sends nothing", async () => {
    const client = makeClient();
    const checks: LuxSciMessage[][] = [
      Array.from({ length: 1001 }, (_, i) => message(i)),
      [{ ...message(0), headers: [["x", "a\r\nBcc: evil@example.com"]] }],
      [
        {
          ...message(0),
          headers: Array.from({ length: 11 }, (_, i): [string, string] => [`h${i}`, "v"]),
        },
      ],
      [{ ...message(0), subject: "s".repeat(1001) }],
    ];
    for (const messages of checks) {
      expect(await caught(client.sendEmail(messages))).toBeInstanceOf(LuxSciValidationError);
    }
    expect(proxy.total()).toBe(0);
  });

  it("export: the third concurrent export is LuxSciMaxJobsError; jobs are listed; no password in errors", async () => {
    const client = makeClient();
    const destination = {
      host: "127.0.0.1",
      port: 1,
      user: "nobody",
      password: "sftp-secret-42",
      directory: "/",
    };
    const first = await client.requestExport("sent", {}, destination);
    const second = await client.requestExport("delivery", {}, destination);
    expect([first.maxJobs, second.currentJobs]).toEqual([2, 2]);
    const error = await caught(client.requestExport("opens", {}, destination));
    expect(error).toBeInstanceOf(LuxSciMaxJobsError);
    expect(error).toMatchObject({ currentJobs: 2, maxJobs: 2 });
    expect(error.message).not.toContain("sftp-secret-42");
    const jobs = await client.listJobs();
    expect(jobs.map((job) => job.jobId)).toEqual(
      expect.arrayContaining([first.jobId, second.jobId]),
    );
  });

  it("pages 120,000 sent rows, every row once", async () => {
    await admin.reset();
    const client = makeClient({ connections: 8 });
    const batches = Array.from({ length: 120 }, (_, b) =>
      Array.from({ length: 1000 }, (_, i) => message(b * 1000 + i)),
    );
    const after = new Date(Date.now() - 5_000);
    for (let b = 0; b < batches.length; b += 8) {
      await Promise.all(batches.slice(b, b + 8).map((batch) => client.sendEmail(batch)));
    }
    const seen = new Set<string>();
    for await (const row of client.iterateReportRows("sent", {
      afterDate: after,
      matches: 50_000,
    })) {
      seen.add(String(row.sendmail_id));
    }
    expect(seen.size).toBe(120_000);
  }, 60_000);
});
