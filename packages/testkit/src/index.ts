export {
  adminUrl,
  createTestDatabase,
  dropDatabase,
  type TestDatabase,
  withAdminClient,
  withDatabase,
} from "./database.ts";
export { default as ensureTemplateDatabase } from "./global-setup.ts";
export { MIGRATIONS_DIR, PRISMA_DIR, REPO_ROOT, SCHEMA_PATH } from "./paths.ts";
export {
  type PostgresStopMode,
  startPostgresCluster,
  type TestPostgresCluster,
} from "./postgres-cluster.ts";
export { createTestQueues, type TestQueues } from "./queues.ts";
export { type RedisServerOptions, startRedisServer, type TestRedisServer } from "./redis-server.ts";
export { type SimProcess, startSimulatorProcess } from "./sim-process.ts";
export { freePort, startSshd, type TestSshd, waitForPort } from "./sshd.ts";
