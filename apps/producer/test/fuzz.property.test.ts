import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  CHANNEL_BASE,
  call,
  documentedOperations,
  startTestProducer,
  type TestProducer,
} from "./support.ts";

// Hostile bodies at every route (issue 14): whatever a client sends, the producer answers
// with a client error naming what is wrong, never a 500. fast-check generates the requests
// from the OpenAPI document itself, so a new route is covered the day it is added: path
// parameters and body fields take the values that break naive code (ids past 2^31-1,
// negative and fractional numbers, NUL and CR/LF in strings, huge and nested values, wrong
// types), next to whole random JSON values.

let producer: TestProducer;
let channelId: string;
let offerId: number;

const EDGE_NUMBERS = [0, -1, 1.5, 2 ** 31 - 1, 2 ** 31, 2 ** 53, -(2 ** 63), 1e308, -0];
const EDGE_STRINGS = [
  "",
  " ",
  "\u0000",
  "a\r\nBcc: victim@evil.example",
  "../../../etc/passwd",
  "%00",
  "' OR 1=1 --",
  "{{ range(100000000) }}",
  "x".repeat(70_000),
  "2147483648",
  "-1",
  "1e309",
  "NaN",
  "__proto__",
  "constructor",
  "\ud800",
  "😀",
];

const edgeValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(...EDGE_NUMBERS),
  fc.constantFrom(...EDGE_STRINGS),
  // A real "__proto__" key (an object literal's would set the prototype and send {}).
  fc.constantFrom(null, true, false, [], {}, [[]], JSON.parse('{"__proto__":{"admin":true}}')),
  fc.integer(),
  fc.string({ maxLength: 40 }),
  fc.jsonValue({ maxDepth: 3 }),
);

const pathValue = fc.oneof(
  fc.constantFrom("2147483648", "-1", "0", "1.5", "1e3", "%00", "..%2F..", "a".repeat(300)),
  fc.constantFrom("00000000000000000000000000000000", "ffffffffffffffffffffffffffffffff"),
  fc.nat().map(String),
  fc.string({ minLength: 1, maxLength: 12 }).map(encodeURIComponent),
);

function fill(path: string, real: boolean, values: string[]): string {
  let index = 0;
  return path.replace(/\{(\w+)\}/g, (_, name: string) => {
    const fake = values[index++ % values.length] ?? "1";
    if (!real) return fake;
    if (path.startsWith("/channels")) return channelId;
    if (name === "key") return "a";
    return String(offerId);
  });
}

beforeAll(async () => {
  producer = await startTestProducer();
  // Real ids too, so generated bodies reach the code behind the id lookups.
  const channel = await call(producer.url, "POST", "/channels", {
    ...CHANNEL_BASE,
    name: "fuzz",
    // Nothing listens here: a connectivity test fails at once instead of waiting on the net.
    apiUrl: "https://127.0.0.1:9/perl/api/v2",
  });
  channelId = channel.body.channel.id;
  const campaign = await call(producer.url, "POST", "/campaigns", { name: "fuzz" });
  const offer = await call(producer.url, "POST", `/campaigns/${campaign.body.campaign.id}/offers`, {
    name: "fuzz",
  });
  offerId = offer.body.offer.id;
});

afterAll(async () => {
  await producer?.close();
});

describe("every route under generated hostile requests", () => {
  it("answers each with a status below 500 and the error shape", async () => {
    const routes = await documentedOperations(producer.url);
    expect(routes.length).toBeGreaterThan(20);
    const seen = new Set<number>();
    for (const route of routes) {
      // A body built from the route's own field names, or any JSON value at all.
      const body = fc.oneof(
        fc.record(Object.fromEntries(route.fields.map((field) => [field, edgeValue])), {
          requiredKeys: [],
        }),
        fc.jsonValue({ maxDepth: 4 }),
      );
      await fc.assert(
        fc.asyncProperty(
          fc.boolean(),
          fc.array(pathValue, { minLength: 1, maxLength: 3 }),
          fc.option(body, { nil: undefined }),
          async (realIds, values, generated) => {
            const url = fill(route.path, realIds, values);
            const sendsBody = route.method !== "GET" && generated !== undefined;
            const reply = await call(
              producer.url,
              route.method,
              url,
              sendsBody ? generated : undefined,
            );
            seen.add(reply.status);
            if (reply.status >= 500) {
              throw new Error(
                `${route.method} ${url} -> ${reply.status} ${reply.text.slice(0, 300)}`,
              );
            }
            if (reply.status >= 400) expect(typeof reply.body?.error?.message).toBe("string");
          },
        ),
        { numRuns: 40, seed: 14 },
      );
    }
    expect(seen.has(400)).toBe(true);
  });

  it("names the field of an id past 2^31-1 with a 400, in paths and in bodies", async () => {
    const big = 2 ** 31;
    const inPath = await call(producer.url, "GET", `/offers/${big}`);
    expect(inPath.status).toBe(400);
    expect(inPath.body.error.field).toBe("id");
    const inBody = await call(producer.url, "POST", "/executions", {
      offerId: big,
      channelId,
      audience: { type: "table", name: "contacts" },
    });
    expect(inBody.status).toBe(400);
    expect(inBody.body.error.field).toBe("offerId");
  });
});
