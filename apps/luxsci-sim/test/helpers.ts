import { createHash, createHmac } from "node:crypto";
import { request } from "undici";
import type { SimAccount } from "../src/index.ts";

// A minimal signing client written from docs/luxsci-contract.md for these tests only
// (packages/luxsci is tested against the simulator separately; neither imports the other).

export const ALICE: SimAccount = {
  user: "alice",
  pass: "alice-pw",
  token: "tok-alice",
  secret: "alice-secret-0123",
};

export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  // biome-ignore lint/suspicious/noExplicitAny: test replies are inspected field by field.
  json: any;
}

const hmac = (secret: string, text: string) =>
  createHmac("sha256", secret).update(text).digest("hex");

export function authBody(account: SimAccount, userScope = false, secret = account.secret) {
  const date = String(Math.floor(Date.now() / 1000));
  const text = `${account.token}\n${date}\n${userScope ? `${account.user}\n${account.pass}\n` : ""}`;
  return {
    user: userScope ? account.user : null,
    pass: userScope ? account.pass : null,
    token: account.token,
    secret: null,
    debug: null,
    date,
    signature: hmac(secret, text),
  };
}

async function raw(
  method: "GET" | "POST" | "PUT" | "DELETE",
  url: string,
  body: string | undefined,
  headers: Record<string, string>,
  timeoutMs?: number,
): Promise<Reply> {
  const response = await request(url, {
    method,
    body,
    headers: body === undefined ? headers : { ...headers, "content-type": "application/json" },
    // A deadline that closes the socket on time (undici's headersTimeout ticks in ~1 s steps).
    signal: timeoutMs === undefined ? undefined : AbortSignal.timeout(timeoutMs),
  });
  const text = await response.body.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.statusCode, headers: response.headers, text, json };
}

export class TestClient {
  auth = "";
  /** A client timeout: a signed call is aborted (its socket closed) after this long. */
  timeoutMs: number | undefined;

  constructor(
    readonly baseUrl: string,
    readonly account: SimAccount = ALICE,
    readonly secret = account.secret,
  ) {}

  async login(userScope = false): Promise<Reply> {
    const reply = await raw(
      "POST",
      `${this.baseUrl}/auth`,
      JSON.stringify(authBody(this.account, userScope, this.secret)),
      {},
    );
    if (reply.json?.auth) this.auth = reply.json.auth;
    return reply;
  }

  /** Signs and sends; `path` is relative to the base (e.g. "/user/alice/profile?x=1"). */
  async call(
    method: "GET" | "POST" | "PUT" | "DELETE",
    path: string,
    body?: unknown,
    tamper?: (signed: { path: string; body: string | undefined }) => {
      path: string;
      body: string | undefined;
    },
  ): Promise<Reply> {
    if (!this.auth) await this.login();
    const url = new URL(`${this.baseUrl}${path}`);
    const text = body === undefined ? undefined : JSON.stringify(body);
    const bodyHash =
      method === "GET" || method === "DELETE"
        ? ""
        : createHash("sha256")
            .update(text ?? "")
            .digest("hex");
    const signature = hmac(
      this.secret,
      `${this.auth}\n${method}\n${url.pathname}\n${url.search.slice(1)}\n${bodyHash}\n`,
    );
    const sent = tamper ? tamper({ path, body: text }) : { path, body: text };
    const reply = await raw(
      method,
      `${this.baseUrl}${sent.path}`,
      sent.body,
      { cookie: `signature=${this.auth}:${signature}` },
      this.timeoutMs,
    );
    if (reply.json?.auth) this.auth = reply.json.auth;
    return reply;
  }
}

export async function admin(
  origin: string,
  method: "GET" | "POST" | "DELETE",
  path: string,
  body?: unknown,
): Promise<Reply> {
  return raw(
    method,
    `${origin}/__sim${path}`,
    body === undefined ? undefined : JSON.stringify(body),
    {},
  );
}

export const message = (i: number, extra: Record<string, unknown> = {}) => ({
  from_address: "dev@luxsci.net",
  from_name: "Developer",
  subject: `Hello ${i}`,
  body: "<p>Hi</p>",
  body_text: "Hi",
  to: [`r${i}@example.com`],
  headers: [
    ["chid", `2790_2790_ch1_${i}`],
    ["offername", "June Sales"],
    ["rpid", "M"],
  ],
  ...extra,
});
