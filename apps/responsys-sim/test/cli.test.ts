import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";

// `npm run responsys-sim -- --help`: the flags a demo or docker-compose passes.
describe("responsys-sim command line", () => {
  it("--help lists the flags", () => {
    const out = execFileSync(process.execPath, ["--import", "tsx", "src/main.ts", "--help"], {
      cwd: new URL("..", import.meta.url),
      encoding: "utf8",
    });
    for (const flag of ["--port", "--api-port", "--token-ttl", "--rate-limit-status"]) {
      expect(out).toContain(flag);
    }
  });
});
