import { createServer, type Server, type Socket } from "node:net";
import { createTestDatabase, type TestDatabase } from "@luxrelay/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDatabasePools } from "../src/index.ts";

// A process's PostgreSQL pools (DATABASE_POOL_MAX and its timeouts): every connection, Prisma's
// and pg's, runs with the statement and idle-in-transaction limits, and waiting for a server
// that accepts and never answers ends after the connect timeout instead of hanging a job.

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase({ migrated: true });
});

afterAll(async () => {
  await db?.drop();
});

describe("process pools", () => {
  it("every connection has the statement and idle-in-transaction timeouts; the budget is split", async () => {
    const pools = createDatabasePools({
      databaseUrl: db.url,
      poolMax: 10,
      connectTimeoutMs: 5_000,
      statementTimeoutMs: 1_234,
    });
    try {
      const pg = await pools.pool.query<{ s: string; i: string }>(
        "SELECT current_setting('statement_timeout') AS s, current_setting('idle_in_transaction_session_timeout') AS i",
      );
      expect(pg.rows[0]).toEqual({ s: "1234ms", i: "1234ms" });
      const prisma = await pools.prisma.$queryRawUnsafe<{ s: string }[]>(
        "SELECT current_setting('statement_timeout') AS s",
      );
      expect(prisma[0]?.s).toBe("1234ms");
      await expect(pools.pool.query("SELECT pg_sleep(3)")).rejects.toThrow(/statement timeout/);
      expect(pools.pool.options.max).toBe(7);
    } finally {
      await pools.close();
    }
  });

  it("a server that accepts and never answers: the pool gives up after the connect timeout", async () => {
    const sockets: Socket[] = [];
    const silent: Server = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    const { port } = silent.address() as { port: number };
    const pools = createDatabasePools({
      databaseUrl: `postgresql://postgres@127.0.0.1:${port}/nowhere`,
      poolMax: 2,
      connectTimeoutMs: 500,
      statementTimeoutMs: 60_000,
    });
    const started = Date.now();
    try {
      await expect(pools.pool.query("SELECT 1")).rejects.toThrow(/timeout/i);
      expect(Date.now() - started).toBeLessThan(3_000);
    } finally {
      for (const socket of sockets) socket.destroy();
      await pools.close();
      await new Promise((resolve) => silent.close(resolve));
    }
  });
});
