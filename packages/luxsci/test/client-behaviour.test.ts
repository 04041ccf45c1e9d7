import { Writable } from "node:stream";
import { createLogger } from "@luxrelay/logger";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  LuxSciAuthError,
  LuxSciClient,
  type LuxSciClientOptions,
  LuxSciMaxJobsError,
  LuxSciRateLimitError,
  LuxSciRequestError,
  LuxSciRetryableError,
} from "../src/index.ts";
import { type SeedServer, startSeedServer } from "./helpers/seed-server.ts";

// Retry, re-auth and redaction behaviour over real HTTP against a scripted node:http server
// (the simulator tests repeat the important ones against apps/luxsci-sim).
const account = { user: "alice", token: "tok-alice", secret: "secret-alice-0123456789" };
let server: SeedServer;
const clients: LuxSciClient[] = [];

function makeClient(options: Partial<LuxSciClientOptions> = {}): LuxSciClient {
  const client = new LuxSciClient({ baseUrl: server.url, ...account, retryBaseMs: 1, ...options });
  clients.push(client);
  return client;
}

const PROFILE = "/perl/api/v2/user/alice/profile";
const count = (path: string) => server.requests.filter((r) => r.path === path).length;
const failures = (
  times: number,
  reply: NonNullable<ReturnType<NonNullable<SeedServer["script"]>>>,
) => {
  let left = times;
  return (request: { path: string }) =>
    request.path === PROFILE && left-- > 0 ? reply : undefined;
};

async function caught(promise: Promise<unknown>): Promise<Error> {
  const result = await promise.then(
    () => undefined,
    (error: unknown) => error,
  );
  expect(result).toBeInstanceOf(Error);
  return result as Error;
}

beforeAll(async () => {
  server = await startSeedServer(account);
});

afterEach(async () => {
  server.script = undefined;
  server.requests.length = 0;
  await Promise.all(clients.splice(0).map((client) => client.close()));
});

afterAll(async () => {
  await server.close();
});

describe("retries", () => {
  it.each([404, 408, 417, 502, 503, 504])("HTTP %i is retried, then succeeds", async (status) => {
    server.script = failures(2, { status, body: { success: 0, error: "try later" } });
    await expect(makeClient().getProfile()).resolves.toMatchObject({ uid: "163972" });
    expect(count(PROFILE)).toBe(3);
  });

  it("malformed JSON in a 200 reply is retried", async () => {
    server.script = failures(1, { status: 200, body: '{"success": 1, "data": {' });
    await expect(makeClient().getProfile()).resolves.toBeDefined();
    expect(count(PROFILE)).toBe(2);
  });

  it("a connection reset is retried", async () => {
    server.script = failures(2, "reset");
    await expect(makeClient().getProfile()).resolves.toBeDefined();
    expect(count(PROFILE)).toBe(3);
  });

  it("a hang past the client timeout is retried", async () => {
    server.script = failures(1, "hang");
    await expect(makeClient({ timeoutMs: 300 }).getProfile()).resolves.toBeDefined();
    expect(count(PROFILE)).toBe(2);
  });

  it("always 503: exactly 10 attempts, then LuxSciRetryableError", async () => {
    server.script = failures(Number.POSITIVE_INFINITY, {
      status: 503,
      body: { success: 0, error: "busy" },
    });
    const error = await caught(makeClient().getProfile());
    expect(error).toBeInstanceOf(LuxSciRetryableError);
    expect(error).toMatchObject({
      status: 503,
      attempts: 10,
      method: "GET",
      path: PROFILE,
      luxsciMessage: "busy",
    });
    expect(count(PROFILE)).toBe(10);
  });

  it("400 and 500 are not retried and keep LuxSci's message", async () => {
    for (const status of [400, 500]) {
      server.requests.length = 0;
      server.script = failures(1, {
        status,
        body: { success: 0, error: "matches must be 1..50000" },
      });
      const error = await caught(makeClient().getProfile());
      expect(error).toBeInstanceOf(LuxSciRequestError);
      expect(error).toMatchObject({
        status,
        attempts: 1,
        luxsciMessage: "matches must be 1..50000",
      });
      expect(count(PROFILE)).toBe(1);
    }
  });

  it("success: 0 with HTTP 200 is unrecoverable", async () => {
    server.script = failures(1, { status: 200, body: { success: 0, error: "no such user" } });
    const error = await caught(makeClient().getProfile());
    expect(error).toBeInstanceOf(LuxSciRequestError);
    expect(error).toMatchObject({ status: 200, attempts: 1, luxsciMessage: "no such user" });
  });

  it("keeps LuxSci's message from error_message when the reply has no error field", async () => {
    // LuxSci's public PHP client and C#/VB samples read `error_message`.
    server.script = failures(1, {
      status: 400,
      body: { success: 0, error_message: "bad after_date" },
    });
    const error = await caught(makeClient().getProfile());
    expect(error).toBeInstanceOf(LuxSciRequestError);
    expect(error).toMatchObject({ status: 400, luxsciMessage: "bad after_date" });
    expect(error.message).toContain('"bad after_date"');
    server.script = failures(2, { status: 401, body: { success: 0, error_message: "expired" } });
    const refused = await caught(makeClient().getProfile());
    expect(refused).toBeInstanceOf(LuxSciAuthError);
    expect(refused).toMatchObject({ luxsciMessage: "expired" });
  });

  it("honours Retry-After on 429", async () => {
    server.script = failures(1, {
      status: 429,
      body: { success: 0, error: "slow" },
      headers: { "retry-after": "1" },
    });
    const started = performance.now();
    await makeClient().getProfile();
    expect(performance.now() - started).toBeGreaterThanOrEqual(990);
    expect(count(PROFILE)).toBe(2);
  });

  it("429 with retryRateLimited: false is thrown at once as LuxSciRateLimitError", async () => {
    server.script = failures(1, {
      status: 429,
      body: { success: 0 },
      headers: { "retry-after": "7" },
    });
    const error = await caught(makeClient({ retryRateLimited: false }).getProfile());
    expect(error).toBeInstanceOf(LuxSciRateLimitError);
    expect(error).toMatchObject({ status: 429, attempts: 1, retryAfterMs: 7000 });
  });

  it("429 until retries run out is LuxSciRateLimitError too", async () => {
    server.script = failures(Number.POSITIVE_INFINITY, {
      status: 429,
      body: { success: 0 },
      headers: { "retry-after": "0" },
    });
    const error = await caught(makeClient({ retries: 3 }).getProfile());
    expect(error).toBeInstanceOf(LuxSciRateLimitError);
    expect(error).toMatchObject({ attempts: 3 });
  });

  it("409 on export is LuxSciMaxJobsError with current and max", async () => {
    server.script = (request) =>
      request.path.includes("/report/")
        ? {
            status: 409,
            body: {
              success: 0,
              error: "max jobs (2) already running",
              data: { current_jobs: 2, max_jobs: 2 },
            },
          }
        : undefined;
    const error = await caught(
      makeClient().requestExport(
        "sent",
        {},
        { host: "h", user: "u", password: "pw-secret-9", directory: "/" },
      ),
    );
    expect(error).toBeInstanceOf(LuxSciMaxJobsError);
    expect(error).toMatchObject({ currentJobs: 2, maxJobs: 2, status: 409, attempts: 1 });
  });

  it.each([
    "../../../../etc/cron.d/x",
    "/etc/passwd",
    "..",
    ".",
    "a/b.csv",
    "a\\b.csv",
    "",
    "x.csv\n",
  ])("an export reply whose filename is not a plain name (%j) is refused", async (filename) => {
    server.script = (request) =>
      request.path.includes("/report/")
        ? {
            status: 200,
            body: {
              success: 1,
              auth: "export-auth",
              data: { current_jobs: 1, filename, max_jobs: 2, job_id: "310383" },
            },
          }
        : undefined;
    const error = await caught(
      makeClient().requestExport(
        "sent",
        {},
        { host: "h", user: "u", password: "pw-secret-9", directory: "/" },
      ),
    );
    expect(error).toBeInstanceOf(LuxSciRequestError);
    expect(error).toMatchObject({ status: 200, attempts: 1 });
    expect(error.message).toMatch(/not a plain file name/);
  });

  it("logs each retry at warn with method, path, status, attempt and delayMs", async () => {
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    server.script = failures(2, { status: 502, body: { success: 0 } });
    await makeClient({ logger: createLogger({ destination, level: "warn" }) }).getProfile();
    const logged = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(logged).toHaveLength(2);
    expect(logged[1]).toMatchObject({
      level: "warn",
      method: "GET",
      path: PROFILE,
      status: 502,
      attempt: 2,
    });
    expect(typeof logged[1]?.delayMs).toBe("number");
  });
});

describe("authentication", () => {
  it("a wrong secret fails with LuxSciAuthError after one re-auth", async () => {
    const error = await caught(makeClient({ secret: "wrong-secret-value" }).getProfile());
    expect(error).toBeInstanceOf(LuxSciAuthError);
    expect(error).toMatchObject({ status: 401, attempts: 2, path: "/perl/api/v2/auth" });
    expect(count("/perl/api/v2/auth")).toBe(2);
    expect(count(PROFILE)).toBe(0);
    expect(error.message).not.toContain("wrong-secret-value");
  });

  it("a refused auth value (expired) re-authenticates transparently once", async () => {
    const client = makeClient();
    await client.getProfile();
    server.script = failures(1, { status: 401, body: { success: 0, error: "auth expired" } });
    await expect(client.getProfile()).resolves.toBeDefined();
    expect(count("/perl/api/v2/auth")).toBe(2);
  });

  it("a second refusal after re-auth is LuxSciAuthError", async () => {
    server.script = failures(2, { status: 403, body: { success: 0, error: "forbidden" } });
    const error = await caught(makeClient().getProfile());
    expect(error).toBeInstanceOf(LuxSciAuthError);
    expect(error).toMatchObject({
      status: 403,
      path: PROFILE,
      attempts: 2,
      luxsciMessage: "forbidden",
    });
  });

  it("refused again after a fresh authentication LuxSci accepted: a limit, retryable; a refused authentication is not", async () => {
    server.script = failures(2, { status: 401, body: { success: 0, error: "too many requests" } });
    const limited = (await caught(makeClient().getProfile())) as LuxSciAuthError;
    expect(limited).toMatchObject({ afterFreshAuth: true, retryable: true, refused: true });
    const wrong = (await caught(
      makeClient({ secret: "not-the-secret-0123456789" }).getProfile(),
    )) as LuxSciAuthError;
    expect(wrong).toBeInstanceOf(LuxSciAuthError);
    expect(wrong).toMatchObject({ afterFreshAuth: false, retryable: false });
  });

  it("concurrent calls share one authentication", async () => {
    const client = makeClient();
    await Promise.all(Array.from({ length: 20 }, () => client.getProfile()));
    expect(count("/perl/api/v2/auth")).toBe(1);
    expect(count(PROFILE)).toBe(20);
  });

  it("user-scope auth sends user and pass and signs them", async () => {
    // The seed server signs user-scope payloads too; a wrong join would be a 401.
    const client = makeClient({ password: "alice-pass-1" });
    await expect(client.getProfile()).resolves.toBeDefined();
    const body = JSON.parse(server.requests[0]?.body ?? "{}") as Record<string, unknown>;
    expect(body).toMatchObject({ user: "alice", pass: "alice-pass-1" });
  });
});

describe("no secret in error messages", () => {
  it("scrubs secret, password, token, auth and destination password that LuxSci echoes", async () => {
    const destinationPassword = "sftp-pass-77";
    const client = makeClient({ password: "alice-pass-1", retries: 1 });
    await client.getProfile();
    const auth = server.requests.at(-1)?.cookie?.slice("signature=".length).split(":")[0] ?? "";
    expect(auth.length).toBeGreaterThan(4);
    const echo = [account.secret, "alice-pass-1", account.token, auth, destinationPassword].join(
      " ",
    );
    server.script = (request) =>
      request.path.includes("/report/")
        ? {
            status: 400,
            body: {
              success: 0,
              error: `bad: ${echo} ?destination_password=${destinationPassword}&x=1 signature=${auth}:abc`,
            },
          }
        : undefined;
    const error = (await caught(
      client.requestExport(
        "sent",
        {},
        { host: "h", user: "u", password: destinationPassword, directory: "/" },
      ),
    )) as LuxSciRequestError;
    for (const text of [
      error.message,
      error.luxsciMessage ?? "",
      JSON.stringify(error),
      String(error.stack),
    ]) {
      for (const secret of [
        account.secret,
        "alice-pass-1",
        account.token,
        auth,
        destinationPassword,
      ]) {
        expect(text).not.toContain(secret);
      }
    }
    expect(error.message).toContain("[redacted]");
  });
});

describe("whether a failed call may have taken effect (refused)", () => {
  const SEND = "/perl/api/v2/user/alice/email/send";
  const message = {
    from_address: "news@acme.example",
    to: ["ann@example.com"],
    subject: "Hi",
    body: "Hello",
  };
  const sendOnce = (client: LuxSciClient) =>
    caught(client.sendEmail([message], { maxAttempts: 1 })) as Promise<LuxSciRequestError>;
  const onSend =
    (reply: NonNullable<ReturnType<NonNullable<SeedServer["script"]>>>) =>
    (request: { path: string }) =>
      request.path === SEND ? reply : undefined;

  it.each([400, 401, 404, 408, 413, 417, 429, 503])(
    "HTTP %i: LuxSci answered a refusal, nothing was sent",
    async (status) => {
      server.script = onSend({ status, body: { success: 0, error: "no" } });
      expect((await sendOnce(makeClient())).refused).toBe(true);
    },
  );

  it("success: 0 with HTTP 200 is a refusal", async () => {
    server.script = onSend({ status: 200, body: { success: 0, error: "bad template" } });
    expect((await sendOnce(makeClient())).refused).toBe(true);
  });

  it.each([500, 502, 504])("HTTP %i: the outcome is unknown", async (status) => {
    server.script = onSend({ status, body: { success: 0, error: "oops" } });
    expect((await sendOnce(makeClient())).refused).toBe(false);
  });

  it("a reset, a hang past the timeout, a garbled or ill-shaped 200: unknown", async () => {
    for (const reply of [
      "reset" as const,
      "hang" as const,
      { status: 200, body: '{"success": 1, "data": [' },
      { status: 200, body: { success: 1, auth: "x", data: [] } },
    ]) {
      server.script = onSend(reply);
      const error = await sendOnce(makeClient({ timeoutMs: 300 }));
      expect(error.refused, JSON.stringify(reply)).toBe(false);
    }
  });

  it("a connection LuxSci never accepted (ECONNREFUSED) is a refusal", async () => {
    const closed = new LuxSciClient({
      baseUrl: "http://127.0.0.1:1/perl/api/v2",
      ...account,
      retries: 1,
    });
    clients.push(closed);
    const error = await caught(closed.getProfile());
    expect(error).toMatchObject({ code: "ECONNREFUSED", refused: true });
  });

  it("a message the client refuses to send (validation) is a refusal", async () => {
    const error = await caught(
      makeClient().sendEmail([{ ...message, headers: [["chid", "1\r\nBcc: x@example.com"]] }]),
    );
    expect(error).toMatchObject({ refused: true, attempts: 0 });
  });
});

describe("LuxSci's clock (Date header)", () => {
  it("serverNow follows LuxSci's Date header, not the host's clock", async () => {
    const hourAgo = new Date(Date.now() - 3_600_000).toUTCString();
    server.script = (request) =>
      request.path === PROFILE
        ? {
            status: 200,
            body: { success: 1, auth: "x", data: { uid: "1" } },
            headers: { date: hourAgo },
          }
        : undefined;
    const client = makeClient();
    expect(client.serverNow()).toBeUndefined();
    await client.getProfile().catch(() => undefined);
    const offset = (client.serverNow()?.getTime() ?? 0) - Date.now();
    expect(offset).toBeGreaterThan(-3_600_000 - 2_000);
    expect(offset).toBeLessThan(-3_600_000 + 2_000);
  });

  it("serverTime reads the clock with a profile call when it has none", async () => {
    const client = makeClient();
    const at = await client.serverTime();
    expect(Math.abs(at.getTime() - Date.now())).toBeLessThan(2_000);
    expect(count(PROFILE)).toBe(1);
    await client.serverTime();
    expect(count(PROFILE)).toBe(1);
  });
});
