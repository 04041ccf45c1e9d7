import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createExecution, getExecutionStatus, type TAudience } from "@luxrelay/outbound";
import { startWorkers, type WorkerProcess } from "@luxrelay/worker";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createOfferFixture,
  type OfferFixture,
  type Stack,
  startStack,
  waitForExecution,
} from "./helpers/stack.ts";

// Issue 14, end to end: audiences with every kind of bad row (a stray quote, NUL, a contact id
// the seeds use, a raw line break in a JSON value, a BOM, bytes that aren't UTF-8, a record
// over AUDIENCE_MAX_RECORD_BYTES) are planned and sent: each bad row is a problem naming its
// row and field, every other row reaches LuxSci (the simulator's ledger) once.

const MAX_RECORD_BYTES = 4096;
const SEED = "proof@acme.example";
const LONG = "x".repeat(MAX_RECORD_BYTES + 100);

let stack: Stack;
let worker: WorkerProcess;
let fixture: OfferFixture;

beforeAll(async () => {
  stack = await startStack({
    env: {
      AUDIENCE_MAX_RECORD_BYTES: String(MAX_RECORD_BYTES),
      AUDIENCE_TABLES: "hostile_contacts",
    },
  });
  worker = await startWorkers(stack.config, stack.logger);
  fixture = await createOfferFixture(stack, {
    variants: [
      {
        key: "a",
        subject: "Hi {{ first_name }}",
        html: "<p>Hi {{ first_name }}</p>",
        // Not in the subject: a line break there is a template problem (one header line).
        text: "Hi {{ first_name }}{% if prefs %} {{ prefs.note }}{% endif %}{% if city %} {{ city }}{% endif %}",
      },
    ],
    // The seed of the one content group is contact seed-1-1: rows below claim that id.
    seeds: [SEED],
  });
});

afterAll(async () => {
  await worker?.stop();
  await stack?.close();
});

function writeAudience(name: string, parts: (string | Buffer)[]): string {
  const path = join(mkdtempSync(join(tmpdir(), "lr-hostile-")), name);
  writeFileSync(path, Buffer.concat(parts.map((part) => Buffer.from(part))));
  return path;
}

/** Sends `audience`; returns the contact ids LuxSci got and the problems planning recorded. */
async function send(audience: TAudience) {
  stack.sim.reset();
  const execution = await createExecution(stack.deps, {
    offerId: fixture.offerId,
    channelId: fixture.channelId,
    audience,
  });
  expect(await waitForExecution(stack, execution.id)).toBe("completed");
  const status = await getExecutionStatus(stack.deps, execution.id);
  const planned = status.log.find((entry) => entry.message.startsWith("planned"));
  const problems = (planned?.data as { invalidRows?: { row: number }[] } | undefined)?.invalidRows;
  expect(status.audience.invalid).toBe(problems?.length);
  const prefix = `${execution.id}_${fixture.offerId}_${fixture.channelId}_`;
  const chidOf = (contactId: string) => `${prefix}${contactId}`;
  return { execution, problems, chidOf, total: stack.sim.ledger() };
}

const problem = (row: number, field: string, message: RegExp) => ({
  row,
  field,
  message: expect.stringMatching(message),
});

describe("hostile audiences: each bad row a problem, every other row sent", () => {
  it("CSV: stray quotes, NUL, a seed's contact id, not UTF-8, an over-long record", async () => {
    const path = writeAudience("hostile.csv", [
      "contact_id,email,first_name,city\n",
      "c1,c1@x.example,Ann,Oslo\n", // row 2
      'c2,c2@x.example,Ann "the man",Oslo\n', // 3: stray quote
      "c3,c3@x.example,Nul\0Byte,Oslo\n", // 4: NUL
      "seed-1-1,c4@x.example,Seedy,Oslo\n", // 5: the seed's contact id
      "c5,c5@x.example,Bo,Z",
      Buffer.from([0xfc]),
      "rich\n", // 6: Latin-1, not UTF-8
      `c6,c6@x.example,${LONG},Oslo\n`, // 7: over AUDIENCE_MAX_RECORD_BYTES
      'c7,c7@x.example,"Unclosed,Oslo\n', // 8: an opening quote never closed
      "c8,c8@x.example,Cy,Oslo\n", // 9: read again after row 8
      'c9,c9@x.example,"Di, ""the"" one",Oslo\n', // 10
      'c10,c10@x.example,Flo,"{""note"":""two\nlines""}"\n', // 11: JSON, a raw line break
      "c11,c11@x.example,Eve,Oslo\n", // 12
    ]);
    const { problems, chidOf, total } = await send({ type: "file", path, format: "csv" });
    expect(problems).toEqual([
      problem(3, "first_name", /quote/),
      problem(4, "first_name", /NUL/),
      problem(5, "contact_id", /seed/),
      problem(6, "city", /not UTF-8/),
      problem(7, "row", /longer than 4096 bytes/),
      problem(8, "first_name", /quote/),
    ]);
    const sent = ["c1", "c8", "c9", "c10", "c11"];
    expect(total).toMatchObject({ total: sent.length + 1, duplicates: 0 });
    expect(stack.sim.ledgerEntries({ chids: sent.map(chidOf) })).toHaveLength(sent.length);
    const [seed] = stack.sim.ledgerEntries({ chids: [chidOf("seed-1-1")] });
    expect(seed?.to).toBe(SEED);
    const [multiline] = stack.sim.ledgerEntries({ chids: [chidOf("c10")] });
    expect(stack.sim.mergedMessage(multiline?.sendmailId as string)?.text).toBe(
      'Hi Flo {"note":"two\nlines"}',
    );
  });

  it("NDJSON with a BOM: NUL, a raw line break in a JSON value, not UTF-8, too long, a seed's id", async () => {
    const path = writeAudience("hostile.ndjson", [
      '\uFEFF{"contact_id":"n1","email":"n1@x.example","first_name":"Bom"}\n', // 1: BOM
      '{"contact_id":"n2","email":"n2@x.example","first_name":"Nul\\u0000"}\n', // 2
      '{"contact_id":"n3","email":"n3@x.example","first_name":"raw\n', // 3: split by a
      'break"}\n', // 4: raw line break
      '{"contact_id":"n4","email":"n4@x.example","first_name":"',
      Buffer.from([0xff, 0xfe]),
      '"}\n', // 5: not UTF-8
      `{"contact_id":"n5","email":"n5@x.example","first_name":"${LONG}"}\n`, // 6
      '{"contact_id":"seed-1-1","email":"n6@x.example"}\n', // 7
      '{"contact_id":"n7","email":"n7@x.example","first_name":"Lone \\ud800"}\n', // 8
      '{"contact_id":"n8","email":"n8@x.example","first_name":"Last"}\n', // 9
    ]);
    const { problems, chidOf, total } = await send({ type: "file", path, format: "ndjson" });
    expect(problems).toEqual([
      problem(2, "first_name", /NUL/),
      problem(3, "row", /not JSON/),
      problem(4, "row", /not JSON/),
      problem(5, "first_name", /not UTF-8/),
      problem(6, "row", /longer than 4096 bytes/),
      problem(7, "contact_id", /seed/),
      problem(8, "first_name", /surrogate/),
    ]);
    expect(total).toMatchObject({ total: 3, duplicates: 0 });
    const [bom] = stack.sim.ledgerEntries({ chids: [chidOf("n1")] });
    expect(bom?.to).toBe("n1@x.example");
    expect(stack.sim.ledgerEntries({ chids: [chidOf("n8")] })).toHaveLength(1);
  });

  it("a table whose json column holds raw line breaks is read, not a failed plan", async () => {
    await stack.deps.pool.query(`
      CREATE TABLE hostile_contacts (contact_id text, email text, first_name text, prefs json);
      INSERT INTO hostile_contacts VALUES
        ('t1', 't1@x.example', 'Tab', E'{"note":\\n  "two\\\\nlines",\\r\\n "x": 1}'),
        ('t2', 't2@x.example', E'Back\\\\slash\\ttab', '{"note": "plain"}');
    `);
    const { problems, chidOf, total } = await send({ type: "table", name: "hostile_contacts" });
    expect(problems).toEqual([]);
    expect(total).toMatchObject({ total: 3, duplicates: 0 });
    const [t1] = stack.sim.ledgerEntries({ chids: [chidOf("t1")] });
    expect(stack.sim.mergedMessage(t1?.sendmailId as string)?.text).toBe("Hi Tab two\nlines");
    const [t2] = stack.sim.ledgerEntries({ chids: [chidOf("t2")] });
    expect(stack.sim.mergedMessage(t2?.sendmailId as string)?.text).toBe(
      "Hi Back\\slash\ttab plain",
    );
  });
});
