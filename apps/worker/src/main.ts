import { getConfigOrExit } from "@luxrelay/config";
import { createLogger } from "@luxrelay/logger";

// Entry point of the worker. Apps are thin (STYLE.md 1): parse config, build dependencies,
// register handlers, stop cleanly on SIGTERM. Its handlers arrive with issues 5, 6 and 7
// (send, reports, housekeeping and realtime roles).
const config = getConfigOrExit();
const log = createLogger({ name: "worker", level: config.logLevel });
log.error("the worker is not built yet: see issues 5, 6 and 7");
process.exitCode = 1;
