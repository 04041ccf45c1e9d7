import { defineConfig } from "vitest/config";

// One vitest run for the whole workspace: every package and app is a project, test files run
// in parallel worker processes, and each test isolates itself (own database, own queue prefix).
export default defineConfig({
  test: {
    projects: ["packages/*", "apps/*", "test"],
    reporters: ["default", "./packages/testkit/src/summary-reporter.ts"],
  },
});
