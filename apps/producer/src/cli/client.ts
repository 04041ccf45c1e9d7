import { createReadStream, createWriteStream } from "node:fs";
import { stat } from "node:fs/promises";
import { Readable, type Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ReadableStream as WebReadableStream } from "node:stream/web";
import { LineCounter } from "../catalog/line-counter.ts";

// The CLI's only way in: the producer's HTTP API. Replies are JSON; errors arrive as
// { error: { field?, message } } and become ApiError with the API's own words.

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly field?: string,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

/** What an upload reports while it streams. */
export interface UploadProgress {
  bytes: number;
  totalBytes: number;
  lines: number;
  elapsedMs: number;
  done: boolean;
}

export class ApiClient {
  readonly baseUrl: string;
  readonly #apiKey: string | undefined;

  constructor(baseUrl: string, apiKey?: string) {
    this.baseUrl = baseUrl.replace(/\/+$/, "");
    this.#apiKey = apiKey;
  }

  private async fetch(path: string, init: RequestInit): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.#apiKey) headers.set("authorization", `Bearer ${this.#apiKey}`);
    try {
      return await fetch(`${this.baseUrl}${path}`, { ...init, headers });
    } catch (error) {
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      throw new ApiError(
        0,
        `cannot reach the producer API at ${this.baseUrl} (${cause?.code ?? cause?.message ?? (error as Error).message})`,
      );
    }
  }

  private async reply<T>(response: Response): Promise<T> {
    const text = await response.text();
    let body: unknown;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      body = undefined;
    }
    if (!response.ok) {
      const error = (body as { error?: { field?: string; message?: string } } | undefined)?.error;
      if (response.status === 401) {
        throw new ApiError(
          401,
          `${error?.message ?? "unauthorized"} (the CLI sends LUXRELAY_API_KEY${this.#apiKey ? "" : ", which is not set"}; create a key with: npm run -s apikey -- create --name <name> --scope admin)`,
        );
      }
      throw new ApiError(
        response.status,
        error?.message ?? `HTTP ${response.status}: ${text.slice(0, 200)}`,
        error?.field,
      );
    }
    return body as T;
  }

  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await this.fetch(path, {
      method,
      headers: body === undefined ? {} : { "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return this.reply<T>(response);
  }

  /** Streams a file to POST /audiences; onProgress sees bytes and lines as they leave. */
  async upload<T>(
    file: string,
    format: "csv" | "ndjson",
    onProgress: (progress: UploadProgress) => void,
  ): Promise<T> {
    const totalBytes = (await stat(file)).size;
    const counter = new LineCounter();
    const started = performance.now();
    const report = (done: boolean) =>
      onProgress({
        bytes: counter.bytes,
        totalBytes,
        lines: counter.lines,
        elapsedMs: performance.now() - started,
        done,
      });
    counter.on("data", () => report(false));
    const source = createReadStream(file).pipe(counter);
    const response = await this.fetch(`/audiences?format=${format}`, {
      method: "POST",
      headers: {
        "content-type": format === "csv" ? "text/csv" : "application/x-ndjson",
        "content-length": String(totalBytes),
      },
      body: Readable.toWeb(source) as unknown as ReadableStream,
      // Node's fetch streams a request body only in half-duplex mode.
      duplex: "half",
    } as RequestInit);
    const result = await this.reply<T>(response);
    report(true);
    return result;
  }

  /** GETs a non-JSON body (a CSV) into a file or stdout. */
  async download(path: string, out: string | Writable): Promise<void> {
    const response = await this.fetch(path, { method: "GET" });
    if (!response.ok || !response.body) {
      await this.reply(response);
      throw new ApiError(response.status, "empty reply");
    }
    const target = typeof out === "string" ? createWriteStream(out) : out;
    const body = Readable.fromWeb(response.body as unknown as WebReadableStream);
    await pipeline(body, target, { end: typeof out === "string" });
  }
}
