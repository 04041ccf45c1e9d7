import { getConfigOrExit } from "@luxrelay/config";
import { ALL_QUEUES, createQueue, createRedisConnection } from "@luxrelay/jobs";
import { createLogger } from "@luxrelay/logger";
import { buildDashboard } from "./index.ts";

// Entry point of the dashboard. Apps are thin (docs/architecture.md "Code style" 1): parse config,
// build dependencies, serve, stop cleanly on SIGTERM. Everything else lives in buildDashboard.
const config = getConfigOrExit();
const log = createLogger({ name: "dashboard", level: config.logLevel });

const connection = createRedisConnection({
  redisUrl: config.redisUrl,
  connectionName: `${config.queuePrefix}-dashboard`,
});
const context = { connection, prefix: config.queuePrefix };
const queues = ALL_QUEUES.map((name) => createQueue(name, context));

const app = await buildDashboard({
  queues,
  user: config.dashboard.user,
  password: config.dashboard.password,
  readOnly: config.dashboard.readOnly,
  logger: log,
});
// listen() returns the address without credentials; the password is never logged.
const url = await app.listen({ host: config.host, port: config.dashboard.port });
log.info(
  { url, user: config.dashboard.user, readOnly: config.dashboard.readOnly, queues: ALL_QUEUES },
  "dashboard listening",
);

let stopping = false;
async function shutdown(signal: NodeJS.Signals): Promise<void> {
  if (stopping) return;
  stopping = true;
  log.info({ signal }, "dashboard stopping");
  try {
    await app.close();
    await Promise.all(queues.map((queue) => queue.close()));
    await connection.quit();
  } catch (error) {
    log.error({ err: error }, "dashboard did not stop cleanly");
    process.exit(1);
  }
  process.exit(0);
}
process.once("SIGTERM", (signal) => void shutdown(signal));
process.once("SIGINT", (signal) => void shutdown(signal));
