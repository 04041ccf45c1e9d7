import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type ResponsysSimulator, startResponsysSimulator } from "../src/index.ts";
import { API, call, login, mergeBody } from "./helpers.ts";

// Contract "Merge profile list members": per-record rows in order, RIIDs as strings,
// MERGEFAILED rows for refused records, merges are upserts keyed by the match column(s).
let sim: ResponsysSimulator;
let token: string;

beforeAll(async () => {
  sim = await startResponsysSimulator({ seed: 11 });
});
beforeEach(async () => {
  sim.reset();
  token = (await login(sim.loginUrl)).json.authToken;
});
afterAll(() => sim.close());

const merge = (body: unknown, list = "LIST") =>
  call(sim.endPoint, token, `${API}/lists/${list}/members`, body);

describe("list merge", () => {
  it("answers one RIID string per record and MERGEFAILED for an invalid address", async () => {
    const reply = await merge(
      mergeBody([
        ["a@example.com", "c1"],
        ["not-an-address", "c2"],
        ["b@example.com", "c3"],
      ]),
    );
    expect(reply.status).toBe(200);
    expect(reply.json.recordData.fieldNames).toEqual(["RIID_"]);
    const rows = reply.json.recordData.records as string[][];
    expect(rows).toHaveLength(3);
    expect(rows[0]?.[0]).toMatch(/^\d+$/);
    expect(rows[1]?.[0]).toBe(
      'MERGEFAILED: Record 1 = The value "not-an-address" is not a valid email address\r\n',
    );
    expect(rows[2]?.[0]).toMatch(/^\d+$/);
    // The whole mergeRule model comes back, keys not sent as null.
    expect(reply.json.mergeRule).toMatchObject({
      matchColumnName1: "EMAIL_ADDRESS_",
      matchColumnName3: null,
      optinValue: null,
    });
    expect(sim.profiles("LIST")).toHaveLength(2);
  });

  it("upserts: the same address again keeps its RIID and takes the new values", async () => {
    const first = await merge(mergeBody([["a@example.com", "c1"]]));
    const second = await merge(mergeBody([["A@Example.com", "c9"]]));
    expect(second.json.recordData.records).toEqual(first.json.recordData.records);
    expect(sim.profiles("LIST")).toEqual([
      expect.objectContaining({ EMAIL_ADDRESS_: "A@Example.com", CUSTOMER_ID_: "c9" }),
    ]);
    const kept = await merge(mergeBody([["a@example.com", "c10"]], { updateOnMatch: "NO_UPDATE" }));
    expect(kept.json.recordData.records).toEqual(first.json.recordData.records);
    expect(sim.profiles("LIST")[0]?.CUSTOMER_ID_).toBe("c9");
  });

  it("matches on a hashed column, update only", async () => {
    const riid = (await merge(mergeBody([["a@example.com", "c1"]]))).json.recordData.records[0][0];
    const sha = "a3c0ed3e5a3d0b4f0e0e4b4c6bd0b0f66d6a2e2b1f9a5e3a1b1e4e0b1f2e3d4c"; // unknown hash
    const { createHash } = await import("node:crypto");
    const known = createHash("sha256").update("a@example.com").digest("hex");
    const body = {
      recordData: {
        fieldNames: ["EMAIL_SHA256_HASH_", "CUSTOMER_ID_"],
        records: [
          [known, "c2"],
          [sha, "c3"],
        ],
      },
      mergeRule: { insertOnNoMatch: false, matchColumnName1: "EMAIL_SHA256_HASH_" },
    };
    const reply = await merge(body);
    expect(reply.json.recordData.records[0]).toEqual([riid]);
    expect(reply.json.recordData.records[1][0]).toMatch(/^MERGEFAILED: Record 1 = /);
    const inserting = await merge({
      ...body,
      mergeRule: { ...body.mergeRule, insertOnNoMatch: true },
    });
    expect(inserting.status).toBe(400);
    expect(inserting.json.errorCode).toBe("INVALID_PARAMETER");
  });

  it("fails the same records at a seeded rate, every retry alike", async () => {
    sim.setMergeFailureRate(0.25);
    const rows = Array.from({ length: 200 }, (_, i) => [`m${i}@example.com`, `c${i}`]);
    const one = (await merge(mergeBody(rows))).json.recordData.records as string[][];
    const failed = one.filter(([row]) => row?.startsWith("MERGEFAILED"));
    expect(failed.length).toBeGreaterThan(25);
    expect(failed.length).toBeLessThan(75);
    const two = (await merge(mergeBody(rows))).json.recordData.records;
    expect(two).toEqual(one);
  });

  it("refuses 201 records, an empty body and a rule without match column", async () => {
    const rows = Array.from({ length: 201 }, (_, i) => [`x${i}@example.com`, ""]);
    const tooMany = await merge(mergeBody(rows));
    expect(tooMany.status).toBe(400);
    expect(tooMany.json.errorCode).toBe("RECIPIENT_LIMIT_EXCEEDED");
    const empty = await merge("");
    expect(empty.json.errorCode).toBe("INVALID_REQUEST_CONTENT");
    const noColumn = await merge(mergeBody([["a@example.com", "c"]], { matchColumnName1: null }));
    expect(noColumn.json).toMatchObject({
      errorCode: "INVALID_PARAMETER",
      title: "Invalid request parameters",
    });
  });
});
