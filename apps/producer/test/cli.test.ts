import { type ChildProcess, spawn } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CHANNEL_BASE, call, startTestProducer, type TestProducer } from "./support.ts";

// The `luxrelay` CLI as a user runs it: bin/luxrelay.js in a child process, against a
// listening producer API.

const BIN = fileURLToPath(new URL("../bin/luxrelay.js", import.meta.url));

let producer: TestProducer;
let channelId: string;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function start(
  args: string[],
  env: Record<string, string | undefined> = {},
): { child: ChildProcess; done: Promise<Run> } {
  // The CLI reads its key from LUXRELAY_API_KEY, as a user's shell would hand it over.
  const child = spawn(process.execPath, [BIN, ...args], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, LUXRELAY_API_KEY: producer?.key, ...env },
  });
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (chunk) => {
    stdout += chunk;
  });
  child.stderr?.on("data", (chunk) => {
    stderr += chunk;
  });
  const done = new Promise<Run>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
  return { child, done };
}

function luxrelay(...args: string[]): Promise<Run> {
  return start(args).done;
}

function api(): string[] {
  return ["--api", producer.url];
}

beforeAll(async () => {
  // `send --table contacts` below: a table audience must be allowed, and exist.
  producer = await startTestProducer({ env: { AUDIENCE_TABLES: "contacts" } });
  await producer.runtime.deps.pool.query("CREATE TABLE contacts (contact_id text, email text)");
  const channel = await call(producer.url, "POST", "/channels", { ...CHANNEL_BASE, name: "api" });
  channelId = channel.body.channel.id;
});

afterAll(async () => {
  await producer?.close();
});

describe("luxrelay CLI", () => {
  it("prints help for the program and for each command", async () => {
    const [top, send] = await Promise.all([luxrelay("--help"), luxrelay("send", "--help")]);
    expect(top.code).toBe(0);
    for (const command of [
      "channel",
      "campaign",
      "offer",
      "audience",
      "send",
      "status",
      "export-merge",
    ]) {
      expect(top.stdout).toContain(command);
    }
    expect(send.code).toBe(0);
    for (const option of [
      "--offer",
      "--channel",
      "--file",
      "--table",
      "--at",
      "--wait",
      "--api",
      "--json",
    ]) {
      expect(send.stdout).toContain(option);
    }
  });

  it("exits 2 with commander's message for an unknown option, command or missing argument", async () => {
    const [option, command, argument, version] = await Promise.all([
      luxrelay("channel", "list", "--colour"),
      luxrelay("chanel", "list"),
      luxrelay("sync"),
      luxrelay("--version"),
    ]);
    expect([option.code, command.code, argument.code]).toEqual([2, 2, 2]);
    expect(option.stderr).toMatch(/unknown option '--colour'/);
    expect(command.stderr).toMatch(/unknown command 'chanel'/);
    expect(argument.stderr).toMatch(/missing required argument 'channel'/);
    expect(version).toMatchObject({ code: 0, stdout: "0.1.0\n" });
  });

  it("takes the API from LUXRELAY_API and the key from LUXRELAY_API_KEY, and says which is missing", async () => {
    const byEnv = await start(["channel", "list", "--json"], { LUXRELAY_API: producer.url }).done;
    expect(byEnv.code, byEnv.stderr).toBe(0);
    expect(JSON.parse(byEnv.stdout).channels.length).toBeGreaterThan(0);
    const noKey = await start(["channel", "list", ...api()], { LUXRELAY_API_KEY: "" }).done;
    expect(noKey.code).toBe(1);
    expect(noKey.stderr).toContain("API key is required");
    expect(noKey.stderr).toContain("LUXRELAY_API_KEY, which is not set");
    expect(noKey.stderr).toContain("npm run -s apikey -- create");
    const help = await luxrelay("channel", "list", "--help");
    expect(help.stdout).toContain("$LUXRELAY_API");
  });

  it("lists channels as JSON and as a summary, without secrets", async () => {
    const [json, human] = await Promise.all([
      luxrelay("channel", "list", "--json", ...api()),
      luxrelay("channel", "list", ...api()),
    ]);
    expect(json.code).toBe(0);
    const reply = JSON.parse(json.stdout) as { channels: { id: string; name: string }[] };
    expect(reply.channels).toEqual([expect.objectContaining({ id: channelId, name: "api" })]);
    expect(json.stdout).not.toContain(CHANNEL_BASE.luxsciSecret);
    expect(human.stdout).toContain(channelId);
    expect(human.stdout).toContain("api");
  });

  it("creates a channel with the secret read from a file, and reports API errors", async () => {
    const secretFile = join(producer.stateDir, "secret.txt");
    await writeFile(secretFile, "cli-secret-789\n");
    const [created, invalid, missing] = await Promise.all([
      luxrelay(
        "channel",
        "create",
        ...api(),
        "--json",
        "--name",
        "cli",
        "--user",
        "u",
        "--token",
        "t",
        "--secret-file",
        secretFile,
        "--from",
        "cli@example.com",
        "--from-name",
        "CLI",
        "--header",
        "X-Source: cli",
        "--batch-size",
        "250",
      ),
      luxrelay(
        "channel",
        "create",
        ...api(),
        "--name",
        "bad",
        "--user",
        "u",
        "--token",
        "t",
        "--secret",
        "s",
        "--from",
        "cli@example.com",
        "--from-name",
        "x".repeat(101),
      ),
      luxrelay("status", "999999", ...api()),
    ]);
    expect(created.code, created.stderr).toBe(0);
    const { channel } = JSON.parse(created.stdout);
    expect(channel).toMatchObject({
      name: "cli",
      hasSecret: true,
      batchSize: 250,
      customHeaders: [["X-Source", "cli"]],
    });
    expect(created.stdout).not.toContain("cli-secret-789");

    expect(invalid.code).toBe(1);
    expect(invalid.stderr).toMatch(/^error: fromName: /m);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("execution 999999 not found");
  });

  it("uploads an audience with progress, sends it, shows status and cancels", async () => {
    const csv = join(producer.stateDir, "people.csv");
    const rows = Array.from({ length: 2000 }, (_, i) => `c${i},p${i}@example.com`);
    await writeFile(csv, `contact_id,email\n${rows.join("\n")}\n`);
    const html = join(producer.stateDir, "body.html");
    await writeFile(html, "<p>Hi {{ contact_id }}</p>");

    const campaign = await luxrelay("campaign", "create", ...api(), "--name", "cli", "--json");
    const campaignId = JSON.parse(campaign.stdout).campaign.id as number;
    const offer = await luxrelay(
      "offer",
      "create",
      ...api(),
      "--json",
      "--campaign",
      String(campaignId),
      "--name",
      "o",
      "--seed",
      "Seed@Example.com",
    );
    const offerId = JSON.parse(offer.stdout).offer.id as number;
    const variant = await luxrelay(
      "offer",
      "variant",
      String(offerId),
      "a",
      ...api(),
      "--subject",
      "Hi",
      "--html",
      html,
    );
    expect(variant.code, variant.stderr).toBe(0);
    expect(variant.stdout).toContain("variant a of offer");
    const shown = await luxrelay("offer", "show", String(offerId), ...api());
    expect(shown.stdout).toContain("seed@example.com");

    const upload = await luxrelay("audience", "upload", csv, ...api(), "--json");
    expect(upload.code, upload.stderr).toBe(0);
    expect(JSON.parse(upload.stdout).rows).toBe(2000);
    expect(upload.stderr).toMatch(/2,001 lines · [\d,]+ rows\/s/);

    const sent = await luxrelay(
      "send",
      ...api(),
      "--json",
      "--offer",
      String(offerId),
      "--channel",
      channelId,
      "--file",
      csv,
    );
    expect(sent.code, sent.stderr).toBe(0);
    const executionId = JSON.parse(sent.stdout).execution.id as number;
    expect(await producer.runtime.deps.queues.plan.getJob(`plan-${executionId}`)).toBeDefined();

    const status = await luxrelay("status", String(executionId), ...api());
    expect(status.stdout).toContain(`execution ${executionId}: scheduled`);
    const cancelled = await luxrelay("cancel", String(executionId), ...api());
    expect(cancelled.stdout).toContain("cancelled");
  });

  it("send --wait shows progress and exits 0 when completed, 1 otherwise", async () => {
    const offer = await call(producer.url, "POST", "/campaigns", { name: "wait" });
    const created = await call(
      producer.url,
      "POST",
      `/campaigns/${offer.body.campaign.id}/offers`,
      {
        name: "w",
      },
    );
    const offerId = created.body.offer.id as number;
    await call(producer.url, "PUT", `/offers/${offerId}/variants/a`, {
      subject: "Hi",
      text: "Hi",
      format: "text",
    });
    const waitFor = async (finish: (id: number) => Promise<unknown>): Promise<Run> => {
      const run = start([
        "send",
        ...api(),
        "--offer",
        String(offerId),
        "--channel",
        channelId,
        "--table",
        "contacts",
        "--wait",
        "--interval",
        "50",
      ]);
      const id = await new Promise<number>((resolve) => {
        run.child.stderr?.on("data", (chunk: Buffer) => {
          const match = /execution (\d+) created/.exec(String(chunk));
          if (match) resolve(Number(match[1]));
        });
      });
      await finish(id);
      return run.done;
    };
    const completed = await waitFor((id) =>
      producer.runtime.deps.prisma.execution.update({
        where: { id },
        data: { status: "completed", batchesTotal: 0 },
      }),
    );
    expect(completed.code, completed.stderr).toBe(0);
    expect(completed.stderr).toMatch(/\] \d+% 0\/0 batches · 0 recipients sent · completed/);
    expect(completed.stdout).toMatch(/execution \d+: completed/);

    const cancelled = await waitFor((id) => call(producer.url, "POST", `/executions/${id}/cancel`));
    expect(cancelled.code).toBe(1);
    expect(cancelled.stdout).toMatch(/execution \d+: cancelled/);
  });
});
