import { decryptChannelSecret } from "@luxrelay/db";
import { DEMO_ACCOUNT, type Simulator, startSimulator } from "@luxrelay/luxsci-sim";
import { startSshd, type TestSshd } from "@luxrelay/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createChannel } from "../src/catalog/channels.ts";
import { CHANNEL_BASE, call, startTestProducer, type TestProducer } from "./support.ts";

// Channels over real HTTP and PostgreSQL; the connectivity test against the simulator and a
// real sshd (a second one, with another host key, stands in for a swapped server).

let producer: TestProducer;
let sim: Simulator;
let sshd: TestSshd;
let otherSshd: TestSshd;

beforeAll(async () => {
  [producer, sim, sshd, otherSshd] = await Promise.all([
    startTestProducer(),
    startSimulator({ seed: 7 }),
    startSshd(),
    startSshd(),
  ]);
}, 60_000);

afterAll(async () => {
  await otherSshd?.stop();
  await sshd?.stop();
  await sim?.close();
  await producer?.close();
});

function expectNoSecret(text: string): void {
  const secrets = [DEMO_ACCOUNT.secret, DEMO_ACCOUNT.pass, sshd.password, "wrong-secret-456"];
  for (const secret of [...secrets, otherSshd.password]) expect(text).not.toContain(secret);
  expect(text).not.toMatch(/SecretEnc|PasswordEnc|v[12]:[A-Za-z0-9_-]+:/);
}

describe("channels", () => {
  let channelId: string;

  it("creates a channel, stores the secrets encrypted and never returns them", async () => {
    const created = await call(producer.url, "POST", "/channels", {
      ...CHANNEL_BASE,
      name: "main",
      apiUrl: sim.url,
      luxsciPassword: DEMO_ACCOUNT.pass,
      customHeaders: [["X-Campaign", "spring"]],
      syncMode: "export",
      sftpHost: sshd.host,
      sftpPort: sshd.port,
      sftpUser: sshd.username,
      sftpPassword: sshd.password,
    });
    expect(created.status).toBe(201);
    expectNoSecret(created.text);
    const { channel } = created.body;
    expect(channel).toMatchObject({
      name: "main",
      apiUrl: sim.url,
      fromName: "Example News",
      customHeaders: [["X-Campaign", "spring"]],
      batchSize: 1000,
      // None named: LUXSCI_RETRIES' (3 in these tests).
      apiRetries: 3,
      hasSecret: true,
      hasPassword: true,
      hasSftpPassword: true,
      sftpHostKey: null,
    });
    expect(channel.luxsciToken).toBeUndefined();
    expect(channel.id).toMatch(/^[0-9a-f]{32}$/);
    channelId = channel.id;

    const row = await producer.runtime.deps.prisma.channel.findUniqueOrThrow({
      where: { id: channelId },
    });
    const key = producer.config.secretKey;
    const open = (column: "luxsciSecretEnc" | "luxsciPasswordEnc" | "sftpPasswordEnc") =>
      decryptChannelSecret(column, row[column] as string, channelId, key);
    expect(row.luxsciSecretEnc).not.toContain(DEMO_ACCOUNT.secret);
    expect(open("luxsciSecretEnc")).toBe(DEMO_ACCOUNT.secret);
    expect(open("luxsciPasswordEnc")).toBe(DEMO_ACCOUNT.pass);
    expect(open("sftpPasswordEnc")).toBe(sshd.password);
    // Bound to their row: under another channel's id they don't decrypt.
    expect(() =>
      decryptChannelSecret("luxsciSecretEnc", row.luxsciSecretEnc, "0".repeat(32), key),
    ).toThrow(/another row or column/);
  });

  it("lists and shows channels without secrets", async () => {
    const list = await call(producer.url, "GET", "/channels");
    expect(list.status).toBe(200);
    expect(list.body.channels.map((c: { id: string }) => c.id)).toContain(channelId);
    expectNoSecret(list.text);
    const one = await call(producer.url, "GET", `/channels/${channelId}`);
    expect(one.body.channel.name).toBe("main");
    expectNoSecret(one.text);
    const missing = await call(producer.url, "GET", `/channels/${"0".repeat(32)}`);
    expect(missing.status).toBe(404);
    expect(missing.body.error.message).toMatch(/not found/);
    const badId = await call(producer.url, "GET", "/channels/nope");
    expect(badId.status).toBe(400);
    expect(badId.body.error.field).toBe("id");
  });

  it("names the field of every validation error", async () => {
    const cases: [Record<string, unknown>, string, RegExp?][] = [
      [{ fromName: "x".repeat(101) }, "fromName", /100/],
      [{ fromName: "Evil\r\nBcc: x@y.com" }, "fromName", /CR or LF/],
      [{ customHeaders: [["X-Ok", "a\r\nInjected: 1"]] }, "customHeaders.0", /CR or LF/],
      [{ customHeaders: [["chid", "1"]] }, "customHeaders.0", /chid/],
      [{ customHeaders: [["Bad Name", "1"]] }, "customHeaders.0", /header name/],
      [
        { customHeaders: Array.from({ length: 10 }, (_, i) => [`X-H${i}`, "v"]) },
        "customHeaders",
        /at most 9/,
      ],
      [{ batchSize: 1001 }, "batchSize"],
      [{ batchSize: 0 }, "batchSize"],
      [{ fromAddress: "not-an-email" }, "fromAddress", /not an email/],
      [{ replyAddress: "a@b" }, "replyAddress"],
      [{ apiUrl: "ftp://x" }, "apiUrl"],
      [{ syncMode: "export" }, "sftpHost", /export/],
    ];
    for (const [change, field, message] of cases) {
      const reply = await call(producer.url, "POST", "/channels", {
        ...CHANNEL_BASE,
        name: `bad-${field}`,
        ...change,
      });
      expect(reply.status, JSON.stringify(change)).toBe(400);
      expect(reply.body.error.field, JSON.stringify(change)).toBe(field);
      expect(reply.body.error.message).toContain(field);
      if (message) expect(reply.body.error.message).toMatch(message);
    }
    const { luxsciSecret: _omitted, ...withoutSecret } = CHANNEL_BASE;
    const missing = await call(producer.url, "POST", "/channels", { ...withoutSecret, name: "x" });
    expect(missing.status).toBe(400);
    expect(missing.body.error.field).toBe("luxsciSecret");
    const unknown = await call(producer.url, "POST", "/channels", {
      ...CHANNEL_BASE,
      name: "y",
      foo: 1,
    });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.message).toMatch(/foo/);
    expect(unknown.body.error.field).toBe("foo");
    // A rejected request's secret never reaches the reply.
    expectNoSecret(missing.text + unknown.text);
  });

  it("refuses a second channel with the same name (409)", async () => {
    const again = await call(producer.url, "POST", "/channels", { ...CHANNEL_BASE, name: "main" });
    expect(again.status).toBe(409);
    expect(again.body.error.field).toBe("name");
  });

  it("updates fields and replaces the secret", async () => {
    const updated = await call(producer.url, "PATCH", `/channels/${channelId}`, {
      fromName: "Spring News",
      batchSize: 500,
      luxsciSecret: "wrong-secret-456",
      luxsciPassword: null,
    });
    expect(updated.status).toBe(200);
    expectNoSecret(updated.text);
    expect(updated.body.channel).toMatchObject({
      fromName: "Spring News",
      batchSize: 500,
      apiRetries: 3,
      hasPassword: false,
      customHeaders: [["X-Campaign", "spring"]],
    });
    const row = await producer.runtime.deps.prisma.channel.findUniqueOrThrow({
      where: { id: channelId },
    });
    expect(
      decryptChannelSecret(
        "luxsciSecretEnc",
        row.luxsciSecretEnc,
        channelId,
        producer.config.secretKey,
      ),
    ).toBe("wrong-secret-456");
    const invalid = await call(producer.url, "PATCH", `/channels/${channelId}`, { sftpHost: null });
    expect(invalid.status).toBe(400);
    expect(invalid.body.error.field).toBe("sftpHost");
    const missing = await call(producer.url, "PATCH", `/channels/${"f".repeat(32)}`, { bcc: null });
    expect(missing.status).toBe(404);
  });

  it("tests connectivity: a clear failure with a wrong secret, ok with the right one", async () => {
    const failed = await call(producer.url, "POST", `/channels/${channelId}/test`);
    expect(failed.status).toBe(200);
    expect(failed.body.test.ok).toBe(false);
    expect(failed.body.test.error).toMatch(/auth|401|403|signature|credential/i);
    expectNoSecret(failed.text);

    await call(producer.url, "PATCH", `/channels/${channelId}`, {
      luxsciSecret: DEMO_ACCOUNT.secret,
    });
    const ok = await call(producer.url, "POST", `/channels/${channelId}/test`);
    expect(ok.body.test).toMatchObject({ ok: true, account: DEMO_ACCOUNT.account });
    expect(ok.body.test.ms).toBeGreaterThanOrEqual(0);
  });

  it("pins the SFTP host key on the first test, then refuses a server with another key", async () => {
    // The tests above were the channel's first: the server's key was learned.
    const pinned = await call(producer.url, "GET", `/channels/${channelId}`);
    expect(pinned.body.channel.sftpHostKey).toBe(sshd.hostKey);

    // Another server at the channel's SFTP address (the old key kept, as after a swap).
    const swapped = await call(producer.url, "PATCH", `/channels/${channelId}`, {
      sftpPort: otherSshd.port,
      sftpUser: otherSshd.username,
      sftpPassword: otherSshd.password,
      sftpHostKey: sshd.hostKey,
    });
    expect(swapped.status).toBe(200);
    const refused = await call(producer.url, "POST", `/channels/${channelId}/test`);
    expect(refused.body.test).toMatchObject({
      ok: false,
      sftp: { ok: false, hostKey: otherSshd.hostKey, expectedHostKey: sshd.hostKey },
    });
    expect(refused.body.test.error).toContain(channelId);
    expect(refused.body.test.error).toContain(otherSshd.hostKey);
    expect(refused.body.test.error).toContain(sshd.hostKey);
    expectNoSecret(refused.text);

    // Moving the destination (with its password) forgets the key; the next test learns it.
    const moved = await call(producer.url, "PATCH", `/channels/${channelId}`, {
      sftpPort: sshd.port,
      sftpUser: sshd.username,
      sftpPassword: sshd.password,
    });
    expect(moved.body.channel.sftpHostKey).toBeNull();
    const learned = await call(producer.url, "POST", `/channels/${channelId}/test`);
    expect(learned.body.test).toMatchObject({
      ok: true,
      sftp: { ok: true, hostKey: sshd.hostKey, learned: true },
    });
  });

  it("takes the secrets again when apiUrl or the SFTP destination changes (400 naming them)", async () => {
    const created = await call(producer.url, "POST", "/channels", {
      ...CHANNEL_BASE,
      name: "moving",
      apiUrl: sim.url,
      luxsciPassword: DEMO_ACCOUNT.pass,
      sftpHost: sshd.host,
      sftpPort: sshd.port,
      sftpUser: sshd.username,
      sftpPassword: sshd.password,
      sftpHostKey: `${sshd.hostKey}=`,
    });
    expect(created.status).toBe(201);
    const { id } = created.body.channel;
    expect(created.body.channel.sftpHostKey).toBe(sshd.hostKey);
    const elsewhere = "https://luxsci.attacker.example/perl/api/v2";
    const cases: [Record<string, unknown>, string, RegExp][] = [
      [{ apiUrl: elsewhere }, "luxsciSecret", /when apiUrl changes/],
      [{ apiUrl: elsewhere, luxsciSecret: "s" }, "luxsciPassword", /when apiUrl changes/],
      [{ sftpHost: "sftp.attacker.example" }, "sftpPassword", /when sftpHost changes/],
      [{ sftpPort: 2222 }, "sftpPassword", /when sftpPort changes/],
      // An export request hands the SFTP password to the apiUrl (destination_password).
      [
        { apiUrl: elsewhere, luxsciSecret: "s", luxsciPassword: "p" },
        "sftpPassword",
        /when apiUrl changes/,
      ],
      // Unpinning (or re-pinning) would let the next test log in to whatever answers.
      [{ sftpHostKey: null }, "sftpPassword", /when sftpHostKey changes/],
      [{ sftpHostKey: `SHA256:${"A".repeat(43)}` }, "sftpPassword", /when sftpHostKey changes/],
      [{ sftpHostKey: "MD5:ab:cd" }, "sftpHostKey", /SHA256 fingerprint/],
    ];
    for (const [change, field, message] of cases) {
      const reply = await call(producer.url, "PATCH", `/channels/${id}`, change);
      expect(reply.status, JSON.stringify(change)).toBe(400);
      expect(reply.body.error.field, JSON.stringify(change)).toBe(field);
      expect(reply.body.error.message).toMatch(message);
    }
    const unchanged = await call(producer.url, "GET", `/channels/${id}`);
    expect(unchanged.body.channel).toMatchObject({ apiUrl: sim.url, sftpHost: sshd.host });
    // The same values again are no change.
    const same = await call(producer.url, "PATCH", `/channels/${id}`, {
      apiUrl: sim.url,
      sftpHost: sshd.host,
    });
    expect(same.status).toBe(200);
    expect(same.body.channel.sftpHostKey).toBe(sshd.hostKey);
    const moved = await call(producer.url, "PATCH", `/channels/${id}`, {
      sftpHost: "sftp.example.net",
      sftpPassword: "new-sftp-password",
    });
    expect(moved.status).toBe(200);
    expect(moved.body.channel).toMatchObject({ sftpHost: "sftp.example.net", sftpHostKey: null });
  });

  it("refuses an http apiUrl unless LUXSCI_ALLOW_HTTP is set (these tests set it)", async () => {
    const strict = {
      prisma: producer.runtime.deps.prisma,
      secretKey: producer.config.secretKey,
      stateDir: producer.stateDir,
      defaultApiUrl: "https://rest.luxsci.com/perl/api/v2",
      allowHttpApiUrl: false,
    };
    await expect(
      createChannel(strict, { ...CHANNEL_BASE, name: "plain-http", apiUrl: sim.url }),
    ).rejects.toMatchObject({ field: "apiUrl", message: expect.stringMatching(/https/) });
    const tls = await createChannel(strict, { ...CHANNEL_BASE, name: "tls" });
    expect(tls.apiUrl).toBe("https://rest.luxsci.com/perl/api/v2");
  });

  it("queues a sync run now and shows its progress; an unknown channel is 404", async () => {
    const queued = await call(producer.url, "POST", `/channels/${channelId}/sync`);
    expect(queued.status).toBe(202);
    expect(queued.body.sync.jobId).toMatch(new RegExp(`^sync-${channelId}-manual-\\d+$`));
    const shown = await call(producer.url, "GET", `/sync-jobs/${queued.body.sync.jobId}`);
    expect(shown.body.sync).toMatchObject({ state: "waiting", result: null, error: null });
    const missing = await call(producer.url, "POST", `/channels/${"0".repeat(32)}/sync`);
    expect(missing.status).toBe(404);
  });

  it("never writes a secret to the log", () => {
    expect(producer.logs.length).toBeGreaterThan(0);
    expectNoSecret(producer.logs.join(""));
  });
});
