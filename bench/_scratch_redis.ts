import { Redis } from "ioredis";

const redis = new Redis("redis://127.0.0.1:6379");
const key = "lrscratch:events";
const NOOP = `return 1`;
const DECODE = `local events = cjson.decode(ARGV[2]) return #events`;
const XADD_ONCE_TRIM = `
local events = cjson.decode(ARGV[2])
for i = 1, #events do
  redis.call('XADD', KEYS[1], '*', unpack(events[i]))
end
redis.call('XTRIM', KEYS[1], 'MAXLEN', '~', ARGV[1])
return #events`;
const XADD_TRIM = `
local events = cjson.decode(ARGV[2])
for i = 1, #events do
  redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', unpack(events[i]))
end
return #events`;
// flat: ARGV[2] = fields per entry, then values
const FLAT = `
local n = tonumber(ARGV[2])
local count = 0
for i = 3, #ARGV, n do
  redis.call('XADD', KEYS[1], '*', unpack(ARGV, i, i + n - 1))
  count = count + 1
end
redis.call('XTRIM', KEYS[1], 'MAXLEN', '~', ARGV[1])
return count`;
const fields = (i: number) => [
  "id",
  String(i),
  "type",
  "opened",
  "channelId",
  "0123456789abcdef0123456789abcdef",
  "executionId",
  "1",
  "offerId",
  "1",
  "contactId",
  "C123",
  "email",
  "user123@example.com",
  "sendmailId",
  "37H8GG0000ffi7",
  "occurredAt",
  "2026-11-01T10:00:00.000Z",
];
const batch = 5000;
const batches: string[] = [];
const flat: string[][] = [];
for (let b = 0; b < 100000; b += batch) {
  const parts: string[] = [];
  const f: string[] = [];
  for (let i = b; i < b + batch; i++) {
    parts.push(JSON.stringify(fields(i)));
    f.push(...fields(i));
  }
  batches.push(`[${parts.join(",")}]`);
  flat.push(f);
}
for (let round = 0; round < 2; round++) {
  for (const [name, s] of [
    ["noop", NOOP],
    ["decode", DECODE],
    ["xadd+trim", XADD_TRIM],
    ["xadd,trim once", XADD_ONCE_TRIM],
  ]) {
    await redis.del(key);
    const t = performance.now();
    for (const b of batches) await redis.eval(s as string, 1, key, "1000000", b);
    console.log(name, (((performance.now() - t) / 100000) * 1000).toFixed(2), "us/event");
  }
  await redis.del(key);
  const t = performance.now();
  for (const f of flat) await redis.eval(FLAT, 1, key, "1000000", "18", ...f);
  console.log("flat", (((performance.now() - t) / 100000) * 1000).toFixed(2), "us/event");
}
await redis.del(key);
redis.disconnect();
