import { createHash, createHmac } from "node:crypto";
import type { SimAccount } from "@luxrelay/luxsci-sim";

// A minimal signing client (pattern of apps/luxsci-sim/test/helpers.ts) for the one test
// that sends through the simulator; render does not depend on packages/luxsci.

const hmac = (secret: string, text: string) =>
  createHmac("sha256", secret).update(text).digest("hex");

export class SimClient {
  private auth = "";

  constructor(
    private readonly baseUrl: string,
    private readonly account: SimAccount,
  ) {}

  private async login(): Promise<void> {
    const date = String(Math.floor(Date.now() / 1000));
    const body = {
      user: null,
      pass: null,
      token: this.account.token,
      secret: null,
      debug: null,
      date,
      signature: hmac(this.account.secret, `${this.account.token}\n${date}\n`),
    };
    const reply = await fetch(`${this.baseUrl}/auth`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    const json = (await reply.json()) as { auth?: string };
    if (!json.auth) throw new Error(`login failed: ${JSON.stringify(json)}`);
    this.auth = json.auth;
  }

  /** Signs and sends; returns the JSON reply's `data` (throws on success: 0). */
  async call(method: "GET" | "POST" | "PUT", path: string, body?: unknown): Promise<unknown> {
    if (!this.auth) await this.login();
    const url = new URL(`${this.baseUrl}${path}`);
    const text = body === undefined ? undefined : JSON.stringify(body);
    const bodyHash =
      method === "GET"
        ? ""
        : createHash("sha256")
            .update(text ?? "")
            .digest("hex");
    const signature = hmac(
      this.account.secret,
      `${this.auth}\n${method}\n${url.pathname}\n${url.search.slice(1)}\n${bodyHash}\n`,
    );
    const reply = await fetch(url, {
      method,
      body: text,
      headers: {
        cookie: `signature=${this.auth}:${signature}`,
        ...(text === undefined ? {} : { "content-type": "application/json" }),
      },
    });
    const json = (await reply.json()) as {
      success: number;
      auth?: string;
      data?: unknown;
      error?: string;
    };
    if (json.auth) this.auth = json.auth;
    if (json.success !== 1) throw new Error(`${method} ${path}: ${reply.status} ${json.error}`);
    return json.data;
  }
}
