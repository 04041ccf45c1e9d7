// The `luxrelay` CLI's own environment: where the API is and the key to call it with. Apart
// from loadConfig because the CLI needs none of the server's settings (and must not fail on
// them), but here because nothing outside packages/config reads process.env
// (docs/architecture.md "Code style" 6).

export const DEFAULT_API_URL = "http://127.0.0.1:3000";

export interface CliEnv {
  /** LUXRELAY_API: the default of --api. */
  apiUrl: string;
  /** LUXRELAY_API_KEY: sent as `Authorization: Bearer`; never taken as an option. */
  apiKey: string | undefined;
}

export function loadCliEnv(env: Record<string, string | undefined> = process.env): CliEnv {
  return {
    apiUrl: env.LUXRELAY_API || DEFAULT_API_URL,
    apiKey: env.LUXRELAY_API_KEY || undefined,
  };
}
