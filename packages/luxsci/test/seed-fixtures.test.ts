import { createHmac } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LuxSciClient, type LuxSciMessage, LuxSciRequestError } from "../src/index.ts";
import { type SeedServer, seed, startSeedServer } from "./helpers/seed-server.ts";

// Seed 000's example replies, served verbatim over real HTTP: the client must parse every one
// of them and send requests whose signatures an independent implementation accepts.
const account = { user: "alice", token: "tok-alice", secret: "secret-alice-0123456789" };
let server: SeedServer;
let client: LuxSciClient;

beforeAll(async () => {
  server = await startSeedServer(account);
  client = new LuxSciClient({ baseUrl: server.url, ...account, retries: 2, retryBaseMs: 1 });
});

afterAll(async () => {
  await client.close();
  await server.close();
});

const message: LuxSciMessage = {
  from_address: "dev@luxsci.net",
  from_name: "Developer",
  to: ["someone@example.com"],
  headers: [["chid", "2790_2790_21f174d0fe8442a9acf096bbd437276c_1380076"]],
  template: "330814",
  template_data: { FirstName: "Isabella" },
  template_data_raw: 1,
};

describe("seed 000 replies", () => {
  it("auth (API scope) then profile, signed with the auth the reply gave", async () => {
    const profile = await client.getProfile();
    expect(profile.uid).toBe("163972");
    expect(profile.services).toContain("smtp");
    const [auth, get] = server.requests.slice(-2);
    const body = JSON.parse(auth?.body ?? "{}") as Record<string, unknown>;
    expect(body).toMatchObject({
      user: null,
      pass: null,
      token: account.token,
      secret: null,
      debug: null,
    });
    expect(Math.abs(Number(body.date) - Date.now() / 1000)).toBeLessThan(5);
    expect(body.signature).toBe(
      createHmac("sha256", account.secret).update(`${account.token}\n${body.date}\n`).digest("hex"),
    );
    expect(get?.cookie?.startsWith(`signature=${seed.auth.auth}:`)).toBe(true);
    expect(server.requests.every((r) => r.signed)).toBe(true);
  });

  it("uses the fresh auth of each reply for the next call", async () => {
    await client.getProfile();
    await client.listJobs();
    const last = server.requests.at(-1);
    expect(last?.cookie?.startsWith(`signature=${seed.profile.auth}:`)).toBe(true);
  });

  it("template create and delete", async () => {
    expect(
      await client.createTemplate({
        title: "LR_Q1",
        subject: "Hi",
        body_html: "<p>x</p>",
        format: "html",
      }),
    ).toBe("330814");
    const put = server.requests.at(-1);
    expect(JSON.parse(put?.body ?? "{}")).toMatchObject({
      template_id: 0,
      code_word: null,
      title: "LR_Q1",
    });
    await expect(client.deleteTemplate("330814")).resolves.toBe(true);
    expect(server.requests.at(-1)?.path).toBe("/perl/api/v2/user/alice/template/330814");
  });

  it("send returns one sendmail id per message", async () => {
    expect(await client.sendEmail([message, message, message])).toEqual(seed.send.data);
    const body = JSON.parse(server.requests.at(-1)?.body ?? "{}") as {
      messages: unknown[];
      sandbox: number;
    };
    expect(body.messages).toHaveLength(3);
    expect(body.sandbox).toBe(0);
  });

  it("a send reply with the wrong number of ids breaks the contract", async () => {
    const error = await client.sendEmail([message]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LuxSciRequestError);
    expect((error as LuxSciRequestError).attempts).toBe(1);
  });

  it("report rows are keyed by the reply's header, whatever its order", async () => {
    const after = new Date("2023-07-18T08:38:02Z");
    const sent = await client.getReport("sent", {
      afterDate: after,
      firstRow: 0,
      matches: 1,
      header1: { name: "chid", operator: "like", value: "_21f174d0" },
    });
    expect(server.requests.at(-1)?.query).toBe(
      "tracked_headers=true&first_row=0&matches=1&after_date=2023-07-18+08%3A38%3A02" +
        "&header1=chid&header1_operator=like&header1_value=_21f174d0",
    );
    expect(sent.matchesTotal).toBe(6);
    expect(sent.rows[0]).toMatchObject({
      sendmail_id: "37IFXe00Ai13463",
      template_id: "330814",
      header1: "chid",
    });

    const delivery = await client.getReport("delivery", { afterDate: after, matches: 1 });
    expect(delivery.rows[0]).toMatchObject({
      status: "Delivered",
      sendmail_id: "37H8GG002i71587",
      Opens: 1,
    });
    const opens = await client.getReport("opens", { matches: 1 });
    expect(opens.rows[0]).toMatchObject({
      open_date: "2023-07-17 11:58:46",
      sendmail_id: "37H8GG002i71587",
    });
    // Clicks put sendmail_id and template_id last: positional parsing would get this wrong.
    const clicks = await client.getReport("clicks", { matches: 10_000 });
    expect(clicks.rows[0]).toMatchObject({
      url: "http://www.example.com",
      sendmail_id: "37H8GG002i71587",
      template_id: "330654",
      header1_value: "2787_2787_<channel_id>_1380067",
    });
  });

  it("export job, jobs list, suppression list", async () => {
    const created = await client.requestExport(
      "sent",
      { afterDate: new Date("2023-07-17T08:16:15Z"), firstRow: 3, matches: 3 },
      { host: "sftp.example.com", user: "u", password: "p@ss w0rd!", directory: "/in" },
    );
    expect(created).toEqual({
      jobId: "310383",
      filename: "1689671756-1485-20872.csv",
      currentJobs: 1,
      maxJobs: 2,
    });
    const query = new URLSearchParams(server.requests.at(-1)?.query);
    expect(Object.fromEntries(query)).toMatchObject({
      destination: "sftp",
      destination_hostname: "sftp.example.com",
      destination_port: "22",
      destination_username: "u",
      destination_password: "p@ss w0rd!",
      destination_directory: "/in",
    });
    const [job] = await client.listJobs();
    expect(job).toMatchObject({
      jobId: "310022",
      status: "complete",
      expectedRows: 2,
      completedRows: 2,
    });
    expect(await client.getSuppressions()).toEqual([
      {
        email: "<recipient_email>",
        account: 19172,
        id: 28594,
        uid: "163972",
        date: "2022-10-10 08:59:28",
        reason: "Unsubscribe link used from 180.190.31.26",
      },
    ]);
  });
});
