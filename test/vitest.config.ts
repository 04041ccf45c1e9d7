import { defineProject } from "vitest/config";
import { sharedTestConfig } from "../vitest.shared.ts";

// End-to-end and cross-app tests (real Redis, Postgres, sshd, simulator).
export default defineProject({
  test: { ...sharedTestConfig, name: "e2e", include: ["**/*.test.ts"] },
});
