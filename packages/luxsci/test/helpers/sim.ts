import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

// The simulator (apps/luxsci-sim) is written in parallel; its tests skip until it exists.
// Everything this package knows of its admin API lives in this file.
const SIM_ENTRY = fileURLToPath(
  new URL("../../../../apps/luxsci-sim/src/index.ts", import.meta.url),
);
export const simAvailable = existsSync(SIM_ENTRY);

export interface SimAccount {
  user: string;
  pass: string;
  token: string;
  secret: string;
}

export interface SimHandle {
  /** Base URL including /perl/api/v2. */
  url: string;
  port: number;
  close(): Promise<void>;
}

export interface SimFault {
  latencyMs?: number;
  rate429?: number;
  retryAfterSeconds?: number;
  rate500?: number;
  rate502?: number;
  rate503?: number;
  rate504?: number;
  resetRate?: number;
  hangRate?: number;
  malformedRate?: number;
}

export async function startSim(options: Record<string, unknown>): Promise<SimHandle> {
  // A variable specifier keeps tsc from resolving the package before the simulator exists.
  const specifier = "@luxrelay/luxsci-sim";
  const sim = (await import(specifier)) as {
    startSimulator(options: Record<string, unknown>): Promise<SimHandle>;
  };
  return sim.startSimulator(options);
}

export function simAdmin(handle: SimHandle) {
  const base = `${new URL(handle.url).origin}/__sim`;
  const send = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${base}${path}`, {
      method,
      headers: body === undefined ? {} : { "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!response.ok) throw new Error(`sim admin ${method} ${path}: HTTP ${response.status}`);
    const text = await response.text();
    return text ? (JSON.parse(text) as unknown) : undefined;
  };
  return {
    setFault: (route: string, fault: SimFault) => send("POST", "/faults", { route, ...fault }),
    clearFaults: () => send("DELETE", "/faults"),
    reset: () => send("POST", "/reset"),
    ledger: () => send("GET", "/ledger") as Promise<Record<string, unknown>>,
  };
}
