import { getConfigOrExit } from "@luxrelay/config";
import { createLogger } from "@luxrelay/logger";

// Entry point of the producer. Apps are thin (STYLE.md 1): parse config, build dependencies,
// register handlers, stop cleanly on SIGTERM. Its handlers arrive with issue 5 (HTTP API and the luxrelay CLI).
const config = getConfigOrExit();
const log = createLogger({ name: "producer", level: config.logLevel });
log.error("the producer is not built yet: see issue 5");
process.exitCode = 1;
