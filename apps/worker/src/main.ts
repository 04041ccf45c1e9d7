import { getConfigOrExit } from "@luxrelay/config";
import { createLogger } from "@luxrelay/logger";
import { startWorkers } from "./index.ts";

// Entry point of the worker (docs/architecture.md "Code style" 1): config, wiring, handlers, clean
// stop on SIGTERM.
const config = getConfigOrExit();
const log = createLogger({ name: "worker", level: config.logLevel });
const worker = await startWorkers(config, log);

let stopping = false;
for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, "stopping: finishing running jobs");
    worker.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        log.error({ err: (error as Error).message }, "unclean stop");
        process.exit(1);
      },
    );
  });
}
