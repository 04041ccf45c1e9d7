import { getConfigOrExit } from "@luxrelay/config";
import { createLogger } from "@luxrelay/logger";

// Entry point of the luxsci-sim. Apps are thin (STYLE.md 1): parse config, build dependencies,
// register handlers, stop cleanly on SIGTERM. Its handlers arrive with issue 4 (the LuxSci API v2 simulator).
const config = getConfigOrExit();
const log = createLogger({ name: "luxsci-sim", level: config.logLevel });
log.error("the luxsci-sim is not built yet: see issue 4");
process.exitCode = 1;
