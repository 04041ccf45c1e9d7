import { defineProject } from "vitest/config";
import { sharedTestConfig } from "../../vitest.shared.ts";

// The shared settings without the global setup: these tests need no database, only the
// simulator over HTTP, so they run without building the migrated template.
const { globalSetup: _databaseTemplate, ...testConfig } = sharedTestConfig;

export default defineProject({ test: { ...testConfig, name: "@luxrelay/responsys-sim" } });
