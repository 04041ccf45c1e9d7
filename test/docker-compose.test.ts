import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { REPO_ROOT } from "@luxrelay/testkit";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";

// No Docker engine runs on our machines, so docker-compose.yml is checked by reading it:
// every service it starts must run a command that exists in this repository.

interface Service {
  image?: string;
  build?: unknown;
  command?: string[];
  deploy?: { replicas?: number };
  ports?: (string | { host_ip?: string; published?: string | number })[];
  environment?: Record<string, string>;
}

const compose = parse(readFileSync(join(REPO_ROOT, "docker-compose.yml"), "utf8"), {
  merge: true,
}) as { services: Record<string, Service> };
const rootPackage = JSON.parse(readFileSync(join(REPO_ROOT, "package.json"), "utf8"));

function workspaceOf(name: string): { dir: string; scripts: Record<string, string> } | undefined {
  for (const group of ["apps", "packages"]) {
    const dir = join(REPO_ROOT, group, name.replace("@luxrelay/", ""));
    const file = join(dir, "package.json");
    if (existsSync(file)) return { dir, scripts: JSON.parse(readFileSync(file, "utf8")).scripts };
  }
  return undefined;
}

/** Follows `npm run X` through root scripts into workspace scripts, down to the file run. */
function resolveNpmScript(script: string): string[] {
  const problems: string[] = [];
  const body = rootPackage.scripts[script] as string | undefined;
  if (!body) return [`root package.json has no script "${script}"`];
  const delegated = body.match(/npm run (\S+) -w (@luxrelay\/\S+)/);
  if (!delegated) return problems;
  const [, inner = "", workspace = ""] = delegated;
  const target = workspaceOf(workspace);
  if (!target) return [`script "${script}" runs in ${workspace}, which does not exist`];
  const innerBody = target.scripts[inner];
  if (!innerBody) return [`${workspace} has no script "${inner}" (needed by "${script}")`];
  for (const file of innerBody.match(/\S+\.ts\b/g) ?? []) {
    if (!existsSync(join(target.dir, file)))
      problems.push(`${workspace} script "${inner}" runs missing ${file}`);
  }
  return problems;
}

describe("docker-compose.yml", () => {
  const services = compose.services;

  it("has every service of the design", () => {
    expect(Object.keys(services)).toEqual(
      expect.arrayContaining([
        "redis",
        "postgres",
        "sftp",
        "luxsci-sim",
        "producer",
        "worker",
        "dashboard",
      ]),
    );
  });

  it("publishes ports on 127.0.0.1 only (a proxy with TLS goes in front, not the world)", () => {
    const published: string[] = [];
    for (const [name, service] of Object.entries(services)) {
      for (const port of service.ports ?? []) {
        const hostIp =
          typeof port === "string" ? port.split(":").slice(0, -2).join(":") : port.host_ip;
        published.push(`${name}: ${hostIp || "0.0.0.0 (every interface)"}`);
      }
    }
    expect(published.length).toBeGreaterThanOrEqual(3);
    expect(published.filter((entry) => !entry.endsWith(": 127.0.0.1"))).toEqual([]);
  });

  it("runs only npm scripts that exist, down to the files they start", () => {
    const problems: string[] = [];
    let checked = 0;
    for (const [name, service] of Object.entries(services)) {
      if (!service.build) continue;
      const command = service.command ?? [];
      expect(command.slice(0, 2), `${name} should run an npm script`).toEqual(["npm", "run"]);
      checked++;
      problems.push(...resolveNpmScript(command[2] ?? "").map((p) => `${name}: ${p}`));
    }
    expect(checked).toBeGreaterThanOrEqual(5);
    expect(problems).toEqual([]);
  });

  it("keeps Redis durable and never evicting (BullMQ's requirement)", () => {
    const command = services.redis?.command?.join(" ") ?? "";
    expect(command).toMatch(/--appendonly yes/);
    expect(command).toMatch(/--maxmemory-policy noeviction/);
  });

  it("scales workers to several replicas, all on the same Redis and Postgres", () => {
    const worker = services.worker;
    expect(worker?.deploy?.replicas).toBeGreaterThan(1);
    expect(worker?.environment?.REDIS_URL).toBe(services.producer?.environment?.REDIS_URL);
    expect(worker?.environment?.DATABASE_URL).toBe(services.producer?.environment?.DATABASE_URL);
  });

  it("puts no literal secret in the file: secrets come from the environment", () => {
    for (const [name, service] of Object.entries(services)) {
      for (const variable of ["SECRET_KEY", "DASHBOARD_PASSWORD"]) {
        const value = service.environment?.[variable];
        if (value !== undefined) expect(value, `${name}.${variable}`).toMatch(/^\$\{/);
      }
    }
  });
});
