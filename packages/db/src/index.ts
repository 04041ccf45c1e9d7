export {
  API_SCOPES,
  ApiKeyInputError,
  type ApiKeyRecord,
  apiKeyDigest,
  createApiKey,
  findApiKey,
  listApiKeys,
  parseApiKey,
  type Queryable,
  revokeApiKey,
  scopeAllows,
  type TApiScope,
  touchApiKey,
} from "./api-keys.ts";
export {
  CHANNEL_SECRET_COLUMNS,
  channelSecretField,
  decryptChannelSecret,
  encryptChannelSecret,
  newChannelId,
  type TChannelSecretColumn,
} from "./channel-secrets.ts";
export { createPrismaClient, type DatabaseOptions } from "./client.ts";
export { withConnection } from "./connection.ts";
export {
  type CopyOptions,
  type CopyRow,
  type CopyValue,
  copyField,
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
export {
  decryptSecret,
  encryptSecret,
  isEncryptedUnder,
  SecretDecryptionError,
  type SecretField,
  type SecretKeys,
  secretKeyId,
} from "./secrets.ts";
export {
  type RotationKeys,
  type RotationResult,
  rotateSecrets,
  SECRET_COLUMNS,
} from "./secrets-rotate.ts";
