import { createHash, createHmac } from "node:crypto";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import seed from "../fixtures/seed-000-replies.json" with { type: "json" };

// A tiny real HTTP server that answers with seed 000's example replies verbatim (contract
// shape checks), checking the auth signature and cookie signature itself with node:crypto.

export interface RecordedRequest {
  method: string;
  path: string;
  query: string;
  cookie: string | undefined;
  body: string;
  /** Whether this server accepted the signature. */
  signed: boolean;
}

/** What a test script makes the server do instead of the normal reply. */
export type Scripted =
  | { status: number; body: string | object; headers?: Record<string, string> }
  | "reset"
  | "hang";

export interface SeedServer {
  url: string;
  requests: RecordedRequest[];
  /** Consulted first for every request (after recording it); undefined = normal reply. */
  script: ((request: RecordedRequest) => Scripted | undefined) | undefined;
  close(): Promise<void>;
}

const PREFIX = "/perl/api/v2";

function replyFor(method: string, path: string, query: URLSearchParams): unknown {
  const user = "/user/alice";
  if (method === "POST" && path === "/auth") return seed.auth;
  if (method === "GET" && path === `${user}/profile`) return seed.profile;
  if (method === "PUT" && path === `${user}/templates`) {
    return { success: 1, auth: "tmpl-auth", data: { template_id: "330814" } };
  }
  if (method === "DELETE" && path.startsWith(`${user}/template/`)) return seed.deleteTemplate;
  if (method === "POST" && path === `${user}/email/send`) return seed.send;
  if (method === "GET" && path === `${user}/jobs`) return seed.jobs;
  if (method === "GET" && path === `${user}/suppression`) return seed.suppression;
  if (method === "GET" && path.startsWith(`${user}/report/email/`)) {
    if (query.get("destination") === "sftp") return seed.export;
    const kind = path.split("/").at(-1) as "sent" | "delivery" | "opens" | "clicks";
    return seed[kind];
  }
  return undefined;
}

export async function startSeedServer(account: {
  token: string;
  secret: string;
}): Promise<SeedServer> {
  const requests: RecordedRequest[] = [];
  const issued = new Set<string>();
  const hmac = (payload: string) =>
    createHmac("sha256", account.secret).update(payload).digest("hex");

  const verify = (req: IncomingMessage, path: string, query: string, body: string) => {
    const method = req.method ?? "";
    if (method === "POST" && path === `${PREFIX}/auth`) {
      const auth = JSON.parse(body) as Record<string, string | null>;
      const payload =
        `${auth.token}\n${auth.date}\n` +
        (auth.user === null ? "" : `${auth.user}\n${auth.pass}\n`);
      return auth.token === account.token && auth.signature === hmac(payload);
    }
    const match = /^signature=([^:]+):([0-9a-f]{64})$/.exec(req.headers.cookie ?? "");
    if (!match || !issued.has(match[1] as string)) return false;
    const bodyHash =
      method === "GET" || method === "DELETE"
        ? ""
        : createHash("sha256").update(body).digest("hex");
    return match[2] === hmac(`${match[1]}\n${method}\n${path}\n${query}\n${bodyHash}\n`);
  };

  const state: { script: SeedServer["script"] } = { script: undefined };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      const [path = "", query = ""] = (req.url ?? "").split("?", 2);
      const signed = verify(req, path, query, body);
      const recorded = {
        method: req.method ?? "",
        path,
        query,
        cookie: req.headers.cookie,
        body,
        signed,
      };
      requests.push(recorded);
      const scripted = state.script?.(recorded);
      if (scripted === "reset") {
        req.socket.destroy();
        return;
      }
      if (scripted === "hang") return;
      if (scripted) {
        const text =
          typeof scripted.body === "string" ? scripted.body : JSON.stringify(scripted.body);
        res.writeHead(scripted.status, { "content-type": "application/json", ...scripted.headers });
        res.end(text);
        return;
      }
      const reply = signed
        ? replyFor(req.method ?? "", path.slice(PREFIX.length), new URLSearchParams(query))
        : { success: 0, error: "bad signature" };
      const status = !signed ? 401 : reply === undefined ? 400 : 200;
      const json = reply ?? { success: 0, error: "no such fixture" };
      const auth = (json as { auth?: unknown }).auth;
      if (typeof auth === "string") issued.add(auth);
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(json));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}${PREFIX}`,
    requests,
    get script() {
      return state.script;
    },
    set script(script) {
      state.script = script;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

export { seed };
