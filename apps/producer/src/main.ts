import { getConfigOrExit } from "@luxrelay/config";
import { createQueue, createRedisConnection, QUEUE_NAMES } from "@luxrelay/jobs";
import { createLogger } from "@luxrelay/logger";
import { createOutboundRuntime } from "@luxrelay/outbound";
import { buildProducerApi } from "./server.ts";

// Entry point of the producer. Apps are thin (docs/architecture.md "Code style" 1): parse config,
// build dependencies, serve, stop cleanly on SIGTERM. Everything else lives in buildProducerApi.
const config = getConfigOrExit();
const log = createLogger({ name: "producer", level: config.logLevel });
if (config.usingDevSecretKey) log.warn("SECRET_KEY not set: channel secrets use the dev key");

const runtime = createOutboundRuntime(config, log);
const redis = createRedisConnection({
  redisUrl: config.redisUrl,
  connectionName: "luxrelay-producer",
});
const reportsQueue = createQueue(QUEUE_NAMES.reports, {
  connection: redis,
  prefix: config.queuePrefix,
});
const realtimeQueue = createQueue(QUEUE_NAMES.realtime, {
  connection: redis,
  prefix: config.queuePrefix,
});
const app = await buildProducerApi(runtime.deps, config, log, { reportsQueue, realtimeQueue });
const url = await app.listen({ host: config.host, port: config.producerPort });
log.info({ url, stateDir: config.sync.stateDir }, "producer listening");

let stopping = false;
async function shutdown(signal: NodeJS.Signals): Promise<void> {
  if (stopping) return;
  stopping = true;
  log.info({ signal }, "producer stopping");
  try {
    await app.close();
    await runtime.close();
    await reportsQueue.close();
    await realtimeQueue.close();
    await redis.quit();
  } catch (error) {
    log.error({ err: error }, "producer did not stop cleanly");
    process.exit(1);
  }
  process.exit(0);
}
process.once("SIGTERM", (signal) => void shutdown(signal));
process.once("SIGINT", (signal) => void shutdown(signal));
