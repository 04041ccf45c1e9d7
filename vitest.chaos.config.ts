import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";
import { sharedTestConfig } from "./vitest.shared.ts";

// npm run test:chaos: the chaos suite (test/chaos/*.chaos.ts), apart from `npm test` because
// its scenarios run for minutes each. One file at a time: they kill and restart processes and
// servers, and their timings must not depend on each other.
export default defineConfig({
  test: {
    ...sharedTestConfig,
    name: "chaos",
    root: "test",
    include: ["chaos/**/*.chaos.ts"],
    fileParallelism: false,
    testTimeout: 900_000,
    hookTimeout: 120_000,
    reporters: [
      "default",
      fileURLToPath(new URL("./packages/testkit/src/summary-reporter.ts", import.meta.url)),
      fileURLToPath(new URL("./test/chaos/report.ts", import.meta.url)),
    ],
  },
});
