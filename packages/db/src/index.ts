export { createPrismaClient, type DatabaseOptions } from "./client.ts";
export { withConnection } from "./connection.ts";
export {
  type CopyOptions,
  type CopyRow,
  type CopyValue,
  copyLines,
  copyRows,
  copyRowsIgnoringConflicts,
  copyValue,
  type EmitLine,
  quoteIdent,
} from "./copy.ts";
export type {
  Channel,
  ContentVariant,
  Execution,
  Offer,
} from "./generated/prisma/client.ts";
export { Prisma, PrismaClient } from "./generated/prisma/client.ts";
export * from "./generated/prisma/enums.ts";
export {
  checkDrift,
  createMigration,
  type DriftReport,
  deployMigrations,
  listLocalMigrations,
  type MigrationPaths,
  type MigrationStatus,
  migrationStatus,
} from "./migrations/index.ts";
export {
  createDatabasePools,
  createProcessPools,
  createResilientPool,
  type DatabasePools,
  type DatabaseSettings,
  type PoolLogger,
  poolConfig,
} from "./pools.ts";
export { decryptSecret, encryptSecret, SecretDecryptionError } from "./secrets.ts";
