import { createServer, request as httpRequest } from "node:http";
import type { AddressInfo } from "node:net";

// A pass-through HTTP proxy in front of the simulator that counts requests per path, so tests
// can assert "exactly one request" / "no request" without relying on the simulator's ledger
// format. Resets and hangs of the simulator reach the client unchanged.

export interface CountingProxy {
  /** Same base path as the target, on the proxy's port. */
  url: string;
  /** Requests seen, by "METHOD /path" (query stripped). */
  counts: Map<string, number>;
  count(method: string, pathSuffix: string): number;
  total(): number;
  close(): Promise<void>;
}

export async function startCountingProxy(targetUrl: string): Promise<CountingProxy> {
  const target = new URL(targetUrl);
  const counts = new Map<string, number>();
  const server = createServer((req, res) => {
    const key = `${req.method} ${(req.url ?? "").split("?")[0]}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
    const upstream = httpRequest(
      {
        host: target.hostname,
        port: target.port,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, host: target.host },
      },
      (reply) => {
        res.writeHead(reply.statusCode ?? 502, reply.headers);
        reply.pipe(res);
        reply.on("error", () => res.destroy());
        reply.on("aborted", () => res.destroy());
      },
    );
    upstream.on("error", () => req.socket.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}${target.pathname}`,
    counts,
    count: (method, suffix) =>
      [...counts]
        .filter(([key]) => key.startsWith(`${method} `) && key.endsWith(suffix))
        .reduce((n, [, c]) => n + c, 0),
    total: () => [...counts.values()].reduce((n, c) => n + c, 0),
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
