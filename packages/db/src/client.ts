import { PrismaPg } from "@prisma/adapter-pg";
import { PrismaClient } from "./generated/prisma/client.ts";

export interface DatabaseOptions {
  databaseUrl: string;
  /** Pool size per process; Prisma Client 7 with adapter-pg pools through pg. */
  maxConnections?: number;
}

/** A Prisma Client on the pg driver adapter (no Rust engine: see shared/notes/prisma-offline.md). */
export function createPrismaClient(options: DatabaseOptions): PrismaClient {
  const adapter = new PrismaPg({
    connectionString: options.databaseUrl,
    max: options.maxConnections ?? 10,
  });
  return new PrismaClient({ adapter });
}
