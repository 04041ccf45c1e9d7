import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../src/index.ts";

function problemsFor(env: Record<string, string>): ConfigError["problems"] {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error("expected loadConfig to fail");
}

describe("loadConfig", () => {
  it("works with no variables at all, on local defaults", () => {
    const config = loadConfig({});
    expect(config.databaseUrl).toBe("postgresql://postgres@127.0.0.1:5432/luxrelay");
    expect(config.redisUrl).toBe("redis://127.0.0.1:6379");
    expect(config.queuePrefix).toBe("luxrelay");
    expect(config.worker.roles).toEqual(["send", "reports", "housekeeping", "realtime"]);
    expect(config.luxsci).toMatchObject({ retries: 10, batchSize: 1000, retryBaseMs: 1000 });
    expect(config.secretKey).toHaveLength(32);
    expect(config.usingDevSecretKey).toBe(true);
    // One state folder for every process, whatever folder npm started it in.
    expect(config.sync.stateDir).toMatch(/^\/.+\/var\/state$/);
    expect(loadConfig({ STATE_DIR: "/srv/lr" }).sync.stateDir).toBe("/srv/lr");
    // Retry, clean, pause and obliterate are for operators who ask for them.
    expect(config.dashboard.readOnly).toBe(true);
    expect(loadConfig({ DASHBOARD_READ_ONLY: "false" }).dashboard.readOnly).toBe(false);
  });

  it("parses numbers, booleans, lists and keys", () => {
    const key = Buffer.alloc(32, 7);
    const config = loadConfig({
      WORKER_QUEUES: " send , realtime",
      WORKER_CONCURRENCY_SEND: "32",
      DASHBOARD_READ_ONLY: "yes",
      LUXSCI_BATCH_SIZE: "250",
      SECRET_KEY: key.toString("hex"),
    });
    expect(config.worker.roles).toEqual(["send", "realtime"]);
    expect(config.worker.concurrency.send).toBe(32);
    expect(config.dashboard.readOnly).toBe(true);
    expect(config.luxsci.batchSize).toBe(250);
    expect(config.secretKey.equals(key)).toBe(true);
    expect(loadConfig({ SECRET_KEY: key.toString("base64") }).secretKey.equals(key)).toBe(true);
  });

  it.each([
    ["DATABASE_URL", "mysql://root@localhost/db", /PostgreSQL URL/],
    ["REDIS_URL", "localhost:6379", /Redis URL/],
    ["QUEUE_PREFIX", "lux:relay", /no ':'/],
    ["LOG_LEVEL", "loud", /one of fatal, error, warn, info/],
    ["NODE_ENV", "staging", /development, test or production/],
    ["WORKER_QUEUES", "send,bogus", /subset of send,reports,housekeeping,realtime/],
    ["WORKER_QUEUES", " , ", /at least one/],
    ["WORKER_CONCURRENCY_SEND", "0", /whole number from 1 to 1000/],
    ["WORKER_CONCURRENCY_SEND", "2.5", /whole number/],
    ["PRODUCER_PORT", "http", /whole number from 1 to 65535/],
    ["LUXSCI_BATCH_SIZE", "1001", /whole number from 1 to 1000/],
    ["LUXSCI_API_URL", "ftp://x", /http\(s\) URL/],
    ["DASHBOARD_READ_ONLY", "maybe", /true or false/],
    ["SECRET_KEY", "too-short", /32 random bytes/],
    ["DASHBOARD_PASSWORD", "short", /at least 12 characters/],
  ])("%s=%s is refused with a message naming it", (variable, value, expected) => {
    const problems = problemsFor({ [variable]: value });
    expect(problems).toHaveLength(1);
    expect(problems[0]?.variable).toBe(variable);
    expect(problems[0]?.message).toMatch(expected);
  });

  it("reports every bad variable at once, each on its own line", () => {
    try {
      loadConfig({ LOG_LEVEL: "loud", REDIS_URL: "nope" });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      const message = (error as Error).message;
      expect(message).toContain("- LOG_LEVEL:");
      expect(message).toContain("- REDIS_URL:");
    }
  });

  it("never echoes a secret or a URL password in its message", () => {
    const message = (() => {
      try {
        loadConfig({
          SECRET_KEY: "hunter2-hunter2",
          DASHBOARD_PASSWORD: "tiny",
          DATABASE_URL: "mysql://bob:pa55word@db/x",
        });
      } catch (error) {
        return (error as Error).message;
      }
      return "";
    })();
    expect(message).toContain("SECRET_KEY");
    expect(message).not.toContain("hunter2");
    expect(message).not.toContain("tiny");
    expect(message).not.toContain("pa55word");
    expect(message).toContain("mysql://bob:***@db/x");
  });

  it("requires SECRET_KEY and DASHBOARD_PASSWORD in production", () => {
    const problems = problemsFor({ NODE_ENV: "production" });
    expect(problems.map((p) => p.variable).sort()).toEqual(["DASHBOARD_PASSWORD", "SECRET_KEY"]);
    const ok = loadConfig({
      NODE_ENV: "production",
      SECRET_KEY: Buffer.alloc(32, 1).toString("base64"),
      DASHBOARD_PASSWORD: "a-long-enough-password",
    });
    expect(ok.usingDevSecretKey).toBe(false);
  });

  it("treats an empty variable as unset", () => {
    expect(loadConfig({ LOG_LEVEL: "" }).logLevel).toBe("info");
  });
});

describe("secrets and http", () => {
  it("reads SECRET_KEY_PREVIOUS as keys that still decrypt, and never echoes them", () => {
    const [a, b] = [Buffer.alloc(32, 2), Buffer.alloc(32, 3)];
    const config = loadConfig({
      SECRET_KEY: a.toString("base64"),
      SECRET_KEY_PREVIOUS: ` ${b.toString("hex")}, ${a.toString("base64")}`,
    });
    // The current key is no "previous" one.
    expect(config.previousSecretKeys).toEqual([b]);
    expect(loadConfig({}).previousSecretKeys).toEqual([]);
    const problems = problemsFor({ SECRET_KEY_PREVIOUS: "hunter2-not-a-key" });
    expect(problems.map((p) => p.variable)).toEqual(["SECRET_KEY_PREVIOUS"]);
    expect(JSON.stringify(problems)).not.toContain("hunter2");
  });

  it("takes an http LUXSCI_API_URL only with LUXSCI_ALLOW_HTTP", () => {
    const http = "http://127.0.0.1:8025/perl/api/v2";
    expect(problemsFor({ LUXSCI_API_URL: http }).map((p) => p.variable)).toEqual([
      "LUXSCI_API_URL",
    ]);
    const allowed = loadConfig({ LUXSCI_API_URL: http, LUXSCI_ALLOW_HTTP: "true" });
    expect(allowed.luxsci).toMatchObject({ apiUrl: http, allowHttp: true });
    expect(loadConfig({}).luxsci.allowHttp).toBe(false);
  });
});
