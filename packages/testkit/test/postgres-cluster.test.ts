import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startPostgresCluster, type TestPostgresCluster, withAdminClient } from "../src/index.ts";

async function query<R extends pg.QueryResultRow>(url: string, sql: string): Promise<R[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<R>(sql)).rows;
  } finally {
    await client.end();
  }
}

function machinePostmasterStart(): Promise<string> {
  return withAdminClient(async (client) => {
    const { rows } = await client.query<{ started: string }>(
      "SELECT pg_postmaster_start_time()::text AS started",
    );
    return rows[0]?.started ?? "";
  });
}

let cluster: TestPostgresCluster;
let machineStartedBefore: string;
let chaosUrl: string;

beforeAll(async () => {
  machineStartedBefore = await machinePostmasterStart();
  cluster = await startPostgresCluster();
  chaosUrl = await cluster.createDatabase("chaos");
});

afterAll(async () => {
  await cluster?.close();
});

describe("test-owned PostgreSQL cluster", () => {
  it("listens on its own loopback port with trust auth", async () => {
    expect(cluster.port).not.toBe(5432);
    expect(cluster.url).toBe(`postgresql://postgres@127.0.0.1:${cluster.port}/postgres`);
    expect(chaosUrl).toBe(`postgresql://postgres@127.0.0.1:${cluster.port}/chaos`);
    const [settings] = await query<{ fsync: string; port: string }>(
      chaosUrl,
      "SELECT current_setting('fsync') AS fsync, current_setting('port') AS port",
    );
    expect(settings).toEqual({ fsync: "on", port: String(cluster.port) });
  });

  it("keeps a committed row across an immediate restart; a client connected across it errors", async () => {
    await query(chaosUrl, "CREATE TABLE item (id int PRIMARY KEY, note text NOT NULL)");
    await query(chaosUrl, "INSERT INTO item VALUES (1, 'committed')");
    const connected = new pg.Client({ connectionString: chaosUrl });
    const dropped: Error[] = [];
    connected.on("error", (error) => dropped.push(error));
    await connected.connect();

    await cluster.restart({ mode: "immediate" });

    await expect(connected.query("SELECT 1")).rejects.toThrow();
    expect(dropped).toHaveLength(1);
    await connected.end();
    expect(await query(chaosUrl, "SELECT id, note FROM item")).toEqual([
      { id: 1, note: "committed" },
    ]);
    // No shutdown checkpoint was written: the start replayed the WAL.
    expect(await readFile(join(cluster.dir, "postgres.log"), "utf8")).toMatch(
      /not properly shut down; automatic recovery in progress/,
    );
  });

  it("refuses connections while stopped (fast) and keeps its data through start()", async () => {
    await cluster.stop({ mode: "fast" });
    await expect(query(chaosUrl, "SELECT 1")).rejects.toThrow(/ECONNREFUSED/);
    await cluster.start();
    expect(await query(chaosUrl, "SELECT count(*)::int AS n FROM item")).toEqual([{ n: 1 }]);
  });

  it("leaves the machine's PostgreSQL running, never restarted", async () => {
    expect(await machinePostmasterStart()).toBe(machineStartedBefore);
  });

  it("close() stops it and removes its directory", async () => {
    await cluster.close();
    expect(existsSync(cluster.dir)).toBe(false);
    await expect(query(chaosUrl, "SELECT 1")).rejects.toThrow(/ECONNREFUSED/);
    await expect(cluster.start()).rejects.toThrow(/closed/);
  });
});
