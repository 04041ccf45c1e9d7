import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { REPO_ROOT } from "@luxrelay/testkit";
import { describe, expect, it } from "vitest";

// docs/architecture.md: two pipelines, no cross-talk. packages/outbound and packages/inbound
// never import each other; what both need of a channel comes from packages/channels.

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && /\.ts$/.test(entry.name))
    .map((entry) => join(entry.parentPath, entry.name))
    .filter((path) => !path.includes("/node_modules/") && !path.includes("/generated/"));
}

function importsOf(pkg: string, other: string): string[] {
  const dir = join(REPO_ROOT, "packages", pkg);
  const found: string[] = [];
  const manifest = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
  for (const field of ["dependencies", "devDependencies"]) {
    if (manifest[field]?.[`@luxrelay/${other}`]) found.push(`package.json ${field}`);
  }
  for (const file of sourceFiles(dir)) {
    const text = readFileSync(file, "utf8");
    if (text.includes(`"@luxrelay/${other}"`) || text.includes(`packages/${other}/src`)) {
      found.push(file.slice(REPO_ROOT.length + 1));
    }
  }
  return found;
}

describe("the two pipelines", () => {
  it("never import each other", () => {
    expect(importsOf("inbound", "outbound")).toEqual([]);
    expect(importsOf("outbound", "inbound")).toEqual([]);
  });

  it("take what is channel-specific from packages/channels", () => {
    for (const pipeline of ["inbound", "outbound"]) {
      expect(importsOf(pipeline, "channels").length, pipeline).toBeGreaterThan(0);
    }
  });
});
