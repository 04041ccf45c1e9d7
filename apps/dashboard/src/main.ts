import { getConfigOrExit } from "@luxrelay/config";
import { createLogger } from "@luxrelay/logger";

// Entry point of the dashboard. Apps are thin (STYLE.md 1): parse config, build dependencies,
// register handlers, stop cleanly on SIGTERM. Its handlers arrive with issue 5 (bull-board behind authentication).
const config = getConfigOrExit();
const log = createLogger({ name: "dashboard", level: config.logLevel });
log.error("the dashboard is not built yet: see issue 5");
process.exitCode = 1;
