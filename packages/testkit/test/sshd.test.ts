import { readFile } from "node:fs/promises";
import { join } from "node:path";
import SftpClient from "ssh2-sftp-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSshd, type TestSshd } from "../src/index.ts";

let sshd: TestSshd;

beforeAll(async () => {
  sshd = await startSshd();
});

afterAll(async () => {
  await sshd?.stop();
});

describe("test sshd", () => {
  it("accepts SFTP with its password: put, list, get, delete", async () => {
    const sftp = new SftpClient();
    await sftp.connect({
      host: sshd.host,
      port: sshd.port,
      username: sshd.username,
      password: sshd.password,
    });
    try {
      await sftp.put(Buffer.from("a,b\n1,2\n"), `${sshd.root}/report.csv`);
      expect((await sftp.list(sshd.root)).map((f) => f.name)).toContain("report.csv");
      expect(await readFile(join(sshd.root, "report.csv"), "utf8")).toBe("a,b\n1,2\n");
      expect(String(await sftp.get(`${sshd.root}/report.csv`))).toBe("a,b\n1,2\n");
      await sftp.delete(`${sshd.root}/report.csv`);
      expect(await sftp.list(sshd.root)).toEqual([]);
    } finally {
      await sftp.end();
    }
  });

  it("refuses a wrong password", async () => {
    const sftp = new SftpClient();
    await expect(
      sftp.connect({
        host: sshd.host,
        port: sshd.port,
        username: sshd.username,
        password: "wrong",
        retries: 0,
      }),
    ).rejects.toThrow(/authentication|auth/i);
  });
});
