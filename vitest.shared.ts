import { fileURLToPath } from "node:url";

// Settings every project shares. The global setup builds (once per migration set) the
// migrated template database that test files clone, so files can run in parallel.
export const sharedTestConfig = {
  include: ["test/**/*.test.ts", "src/**/*.test.ts"],
  globalSetup: [fileURLToPath(new URL("./packages/testkit/src/global-setup.ts", import.meta.url))],
  testTimeout: 30_000,
  hookTimeout: 60_000,
};
