import { spawn } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { call, startTestProducer, type TestProducer } from "./support.ts";

// `luxrelay channel create|update` takes secrets from files, stdin or the environment, and
// warns when one comes on the command line (shell history, ps).

const BIN = fileURLToPath(new URL("../bin/luxrelay.js", import.meta.url));

let producer: TestProducer;

beforeAll(async () => {
  producer = await startTestProducer();
});

afterAll(async () => {
  await producer?.close();
});

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function luxrelay(
  args: string[],
  options: { env?: Record<string, string>; stdin?: string } = {},
): Promise<Run> {
  const child = spawn(process.execPath, [BIN, ...args, "--api", producer.url, "--json"], {
    stdio: ["pipe", "pipe", "pipe"],
    env: {
      ...process.env,
      LUXRELAY_API_KEY: producer.key,
      LUXSCI_SECRET: "",
      LUXSCI_PASSWORD: "",
      SFTP_PASSWORD: "",
      ...options.env,
    },
  });
  child.stdin.end(options.stdin ?? "");
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk) => {
    stdout += chunk;
  });
  child.stderr.on("data", (chunk) => {
    stderr += chunk;
  });
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

const CREATE = ["channel", "create", "--user", "u", "--token", "t", "--from", "a@example.com"];

describe("luxrelay channel secrets", () => {
  it("warns on stderr when a secret is given on the command line", async () => {
    const run = await luxrelay([...CREATE, "--name", "inline", "--secret", "inline-secret-1"]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/^warning: --secret puts a secret on the command line/m);
    expect(run.stderr).toContain("LUXSCI_SECRET");
    expect(run.stdout).not.toContain("inline-secret-1");
  });

  it("takes secrets from a file, stdin and the environment without a warning", async () => {
    const file = join(producer.stateDir, "sftp-password.txt");
    await writeFile(file, "sftp-from-file\n");
    const run = await luxrelay(
      [
        ...CREATE,
        "--name",
        "quiet",
        "--password-file",
        "-",
        "--sftp-host",
        "sftp.example.com",
        "--sftp-user",
        "lux",
        "--sftp-password-file",
        file,
      ],
      { env: { LUXSCI_SECRET: "secret-from-env" }, stdin: "password-from-stdin\n" },
    );
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toBe("");
    expect(JSON.parse(run.stdout).channel).toMatchObject({
      hasSecret: true,
      hasPassword: true,
      hasSftpPassword: true,
    });
    // Changing the SFTP host takes the password again: from the environment when asked.
    const { id } = JSON.parse(run.stdout).channel;
    const refused = await luxrelay(["channel", "update", id, "--sftp-host", "other.example.com"], {
      env: { SFTP_PASSWORD: "sftp-from-env" },
    });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/sftpPassword: required again when sftpHost changes/);
    const moved = await luxrelay(
      ["channel", "update", id, "--sftp-host", "other.example.com", "--secrets-from-env"],
      { env: { SFTP_PASSWORD: "sftp-from-env" } },
    );
    expect(moved.code, moved.stderr).toBe(0);
    const shown = await call(producer.url, "GET", `/channels/${id}`);
    expect(shown.body.channel.sftpHost).toBe("other.example.com");
  });

  it("refuses a secret given twice, or two secrets from stdin (exit 2)", async () => {
    const [twice, stdin] = await Promise.all([
      luxrelay([...CREATE, "--name", "x", "--secret", "a", "--secret-file", "/dev/null"]),
      luxrelay([...CREATE, "--name", "y", "--secret-file", "-", "--password-file", "-"]),
    ]);
    expect(twice.code).toBe(2);
    expect(twice.stderr).toMatch(/--secret and --secret-file: give one of them/);
    expect(stdin.code).toBe(2);
    expect(stdin.stderr).toMatch(/stdin \(-\) can give one secret only/);
  });
});
