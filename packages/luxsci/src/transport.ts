import { Pool } from "undici";
import type { RawReply } from "./errors/classify.ts";

export const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_CONNECTIONS = 16;
const DEFAULT_KEEP_ALIVE_MS = 30_000;
const USER_AGENT = "luxrelay-luxsci/0.1";

export interface TransportOptions {
  /** Fallback for the three timeouts below. */
  timeoutMs?: number;
  connectTimeoutMs?: number;
  headersTimeoutMs?: number;
  bodyTimeoutMs?: number;
  /** Sockets kept open to LuxSci (undici Pool `connections`). */
  connections?: number;
  keepAliveTimeoutMs?: number;
  /** Anything else undici's Pool takes (TLS options, pipelining ...); wins over the above. */
  poolOptions?: Pool.Options;
}

export interface OutgoingRequest {
  method: "GET" | "POST" | "PUT" | "DELETE";
  /** Full path as signed, e.g. "/perl/api/v2/user/alice/profile". */
  path: string;
  /** Raw query string without "?" ("" for none). */
  query: string;
  body?: string | undefined;
  cookie?: string | undefined;
}

/**
 * One keep-alive undici Pool for LuxSci's origin. Sends a request and reads the whole reply;
 * transport failures are thrown as undici raised them and classified by the caller.
 */
export class Transport {
  readonly origin: string;
  private readonly pool: Pool;
  private readonly headersTimeout: number;
  private readonly bodyTimeout: number;

  constructor(origin: string, options: TransportOptions = {}) {
    const timeout = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.origin = origin;
    this.headersTimeout = options.headersTimeoutMs ?? timeout;
    this.bodyTimeout = options.bodyTimeoutMs ?? timeout;
    this.pool = new Pool(origin, {
      connections: options.connections ?? DEFAULT_CONNECTIONS,
      keepAliveTimeout: options.keepAliveTimeoutMs ?? DEFAULT_KEEP_ALIVE_MS,
      connectTimeout: options.connectTimeoutMs ?? timeout,
      headersTimeout: this.headersTimeout,
      bodyTimeout: this.bodyTimeout,
      ...options.poolOptions,
    });
  }

  async send(request: OutgoingRequest): Promise<RawReply> {
    const headers: Record<string, string> = {
      accept: "application/json",
      "user-agent": USER_AGENT,
    };
    if (request.body !== undefined) headers["content-type"] = "application/json; charset=utf-8";
    if (request.cookie !== undefined) headers.cookie = request.cookie;
    const response = await this.pool.request({
      method: request.method,
      path: request.query ? `${request.path}?${request.query}` : request.path,
      headers,
      body: request.body,
      headersTimeout: this.headersTimeout,
      bodyTimeout: this.bodyTimeout,
    });
    const text = await response.body.text();
    return { status: response.statusCode, headers: response.headers, text };
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}
