import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { startSshd, type TestSshd } from "@luxrelay/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPORT_HEADERS, type Simulator, startSimulator } from "../src/index.ts";
import { ALICE, admin, TestClient } from "./helpers.ts";

// Async export to a real sshd (seed 000 inbound steps 2-3): max_jobs, the job's statuses,
// the CSV on the SFTP server, and a failed login as a clear status_detail.
let sim: Simulator;
let sshd: TestSshd;
let client: TestClient;

beforeAll(async () => {
  [sim, sshd] = await Promise.all([
    startSimulator({
      seed: 13,
      accounts: [ALICE],
      exportStepMs: { submittedMs: 50, preparingMs: 50, runningMs: 300 },
    }),
    startSshd(),
  ]);
  client = new TestClient(sim.url);
  sim.seedLedger({ count: 25, chidPrefix: "5_5_chE_" });
});
afterAll(async () => {
  await sim?.close();
  await sshd?.stop();
});

const exportPath = (kind: string, password: string, folder = "") =>
  `/user/alice/report/email/smtp/${kind}?tracked_headers=true&first_row=0&header1=chid&header1_operator=like&header1_value=_chE_` +
  `&destination=sftp&destination_directory=${encodeURIComponent(join(sshd.root, folder))}` +
  `&destination_hostname=${sshd.host}&destination_port=${sshd.port}` +
  `&destination_username=${sshd.username}&destination_password=${encodeURIComponent(password)}`;

async function waitForJob(jobId: string) {
  for (;;) {
    const jobs = await client.call("GET", "/user/alice/jobs");
    const job = jobs.json.data.find((j: { job_id: string }) => j.job_id === jobId);
    if (job.status === "complete" || job.status === "failed") return job;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe("export", () => {
  it("two run, the third is 409; the CSV lands on the SFTP server; a bad password fails", async () => {
    const first = await client.call("GET", exportPath("sent", sshd.password));
    expect(first.json).toMatchObject({
      success: 1,
      data: { current_jobs: 1, max_jobs: 2, job_id: expect.any(String) },
    });
    expect(first.json.data.filename).toMatch(/^\d{10}-\d+-\d+\.csv$/);
    const second = await client.call("GET", exportPath("sent", "wrong-password"));
    expect(second.json.data.current_jobs).toBe(2);
    const third = await client.call("GET", exportPath("sent", sshd.password));
    expect(third.status).toBe(409);
    expect(third.json).toEqual({
      success: 0,
      error: "max jobs (2) already running",
      error_message: "max jobs (2) already running",
      data: { current_jobs: 2, max_jobs: 2 },
    });

    const done = await waitForJob(first.json.data.job_id);
    expect(done).toMatchObject({
      status: "complete",
      status_detail: null,
      expected_rows: 25,
      completed_rows: 25,
      filename: first.json.data.filename,
      uid: "163972",
      max_jobs: 2,
    });
    const csv = await readFile(join(sshd.root, first.json.data.filename), "utf8");
    const lines = csv.trimEnd().split("\r\n");
    expect(lines[0]).toBe(REPORT_HEADERS.sent.join(","));
    expect(lines).toHaveLength(26);
    expect(lines[1]).toContain("5_5_chE_0");

    const failed = await waitForJob(second.json.data.job_id);
    expect(failed.status).toBe("failed");
    expect(failed.status_detail).toMatch(/SFTP login to sftp:\/\/.+ failed: .*authentication/i);
    expect(failed.status_detail).not.toContain("wrong-password");

    // Slots are free again.
    const again = await client.call("GET", exportPath("delivery", sshd.password));
    expect(again.status).toBe(200);
    await waitForJob(again.json.data.job_id);
  });

  it("an export holds only the rows past the report lag when it is prepared", async () => {
    sim.reset();
    sim.seedLedger({ count: 10, chidPrefix: "5_5_chE_" });
    sim.setReportLag(60_000);
    const early = await client.call("GET", exportPath("sent", sshd.password));
    const none = await waitForJob(early.json.data.job_id);
    expect(none).toMatchObject({ status: "complete", expected_rows: 0, completed_rows: 0 });
    const header = await readFile(join(sshd.root, none.filename), "utf8");
    expect(header.trimEnd().split("\r\n")).toHaveLength(1);
    sim.advanceClock(61);
    await client.login();
    const late = await client.call("GET", exportPath("sent", sshd.password));
    const all = await waitForJob(late.json.data.job_id);
    expect(all).toMatchObject({ status: "complete", expected_rows: 10, completed_rows: 10 });
  });

  it("exportFilename: a hostile LuxSci names the file as told and writes it there", async () => {
    sim.reset();
    sim.seedLedger({ count: 3, chidPrefix: "5_5_chE_" });
    const set = await admin(sim.origin, "POST", "/export-filename", { filename: "../x.csv" });
    expect(set.json).toEqual({ filename: "../x.csv" });
    expect((await admin(sim.origin, "POST", "/export-filename", { filename: 7 })).status).toBe(400);
    const created = await client.call("GET", exportPath("sent", sshd.password, "inner"));
    expect(created.json.data.filename).toBe("../x.csv");
    const done = await waitForJob(created.json.data.job_id);
    expect(done).toMatchObject({ status: "complete", filename: "../x.csv", completed_rows: 3 });
    // `inner/../x.csv`: outside the destination folder, where such a LuxSci would write it.
    const csv = await readFile(join(sshd.root, "x.csv"), "utf8");
    expect(csv.trimEnd().split("\r\n")).toHaveLength(4);
    sim.reset();
    expect((await admin(sim.origin, "GET", "/export-filename")).json).toEqual({ filename: null });
  });
});
