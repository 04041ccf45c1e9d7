import { fromBase62, hash32, toBase62 } from "@luxrelay/sim-kit";
import { StringColumn } from "./columns.ts";
import { DELIVERED, type EventModel, type EventSummary, summarizeEvents } from "./events.ts";
import { Interner } from "./intern.ts";
import type { MergedMessage } from "./merge.ts";

// The ledger of every accepted message: the proof of exactly-once
// (docs/architecture.md "Exactly once": no recipient twice, none lost, under kill -9). It must
// hold a million entries in well under 1 GB, so it is columnar and almost entirely off the JS
// heap: typed arrays for numbers, interned ids for repeating strings (from, other headers),
// UTF-8 string columns for the per-message `to`, chid and subject, and a 16-byte hash instead of
// the body.

export type HeaderPair = readonly [string, string];

export interface LedgerInput {
  accountIndex: number;
  /** Accepted in sandbox mode: given an id, never delivered. */
  sandbox?: boolean;
  to: readonly string[];
  /** All message headers, in the order sent (chid included). */
  headers: readonly HeaderPair[];
  templateId: string | null;
  subject: string;
  from: string;
  sizeBytes: number;
  /** First 16 bytes of SHA-256(subject \0 html \0 text). */
  hash: Uint8Array;
  sentAtMs: number;
  merged: MergedMessage;
}

export interface LedgerEntry {
  index: number;
  sendmailId: string;
  accountIndex: number;
  sandbox: boolean;
  to: string;
  nRecipients: number;
  chid: string | null;
  headers: HeaderPair[];
  templateId: string | null;
  subject: string;
  from: string;
  sizeBytes: number;
  mergedHash: string;
  sentAt: string;
  sentAtMs: number;
  events: EventSummary;
}

const INITIAL_CAPACITY = 4096;
const HASH_BYTES = 16;
const NO_EVENTS: EventSummary = {
  status: DELIVERED,
  deliveryMs: 0,
  opens: 0,
  clicks: 0,
  fblMs: -1,
  unsubscribeMs: -1,
};

/**
 * The (chid, to) pairs seen so far, as an open-addressing table of entry indexes: 8 bytes a
 * slot instead of a concatenated string key and a Map entry per message. Exact: a hash match
 * is confirmed against the entry's own chid and to.
 */
class PairIndex {
  private slots = new Int32Array(1 << 12).fill(-1);
  private hashes = new Uint32Array(1 << 12);
  private size = 0;

  /** The first entry with the same pair, or -1 after recording `index` as the first. */
  firstOrAdd(hash: number, index: number, same: (other: number) => boolean): number {
    if ((this.size + 1) * 2 > this.slots.length) this.grow();
    const mask = this.slots.length - 1;
    for (let slot = hash & mask; ; slot = (slot + 1) & mask) {
      const other = this.slots[slot] as number;
      if (other < 0) {
        this.slots[slot] = index;
        this.hashes[slot] = hash;
        this.size++;
        return -1;
      }
      if (this.hashes[slot] === hash && same(other)) return other;
    }
  }

  private grow(): void {
    const { slots, hashes } = this;
    this.slots = new Int32Array(slots.length * 2).fill(-1);
    this.hashes = new Uint32Array(slots.length * 2);
    const mask = this.slots.length - 1;
    for (let i = 0; i < slots.length; i++) {
      const index = slots[i] as number;
      if (index < 0) continue;
      let slot = (hashes[i] as number) & mask;
      while ((this.slots[slot] as number) >= 0) slot = (slot + 1) & mask;
      this.slots[slot] = index;
      this.hashes[slot] = hashes[i] as number;
    }
  }
}

function grown<T extends Uint8Array | Int32Array | Uint32Array | Float64Array>(
  array: T,
  capacity: number,
): T {
  const next = new (array.constructor as new (length: number) => T)(capacity);
  next.set(array);
  return next;
}

export class Ledger {
  private capacity = INITIAL_CAPACITY;
  length = 0;
  duplicates = 0;
  sandboxCount = 0;
  /** Bumped by reset so sendmail ids of a new run never repeat the old ones. */
  private generation = 0;
  private prefix = "";
  private readonly server: string;

  accountIndex = new Uint8Array(INITIAL_CAPACITY);
  sandbox = new Uint8Array(INITIAL_CAPACITY);
  sentAtMs = new Float64Array(INITIAL_CAPACITY);
  nRecipients = new Uint8Array(INITIAL_CAPACITY);
  templateId = new Int32Array(INITIAL_CAPACITY);
  fromId = new Int32Array(INITIAL_CAPACITY);
  headersId = new Int32Array(INITIAL_CAPACITY);
  sizeBytes = new Uint32Array(INITIAL_CAPACITY);
  hashes = new Uint8Array(INITIAL_CAPACITY * HASH_BYTES);
  status = new Uint8Array(INITIAL_CAPACITY);
  deliveryMs = new Uint32Array(INITIAL_CAPACITY);
  opens = new Uint8Array(INITIAL_CAPACITY);
  clicks = new Uint8Array(INITIAL_CAPACITY);
  fblMs = new Int32Array(INITIAL_CAPACITY);
  unsubscribeMs = new Int32Array(INITIAL_CAPACITY);
  /** Recipients joined by ",", and the chid header: off the JS heap (see columns.ts). */
  to = new StringColumn();
  chid = new StringColumn();
  /** Merged subjects: personalised, so nearly all distinct; not worth interning. */
  subject = new StringColumn();

  /** Interned strings: from addresses, other-header lists (JSON). */
  readonly strings = new Interner();
  private headerCache: HeaderPair[][] = [];

  /** Every (chid, to) pair; only pairs accepted more than once are in `duplicateKeys`. */
  private pairs = new PairIndex();
  /** First entry index of a duplicated pair -> times accepted. */
  duplicateKeys = new Map<number, number>();
  private merged = new Map<number, MergedMessage>();

  constructor(
    private readonly model: EventModel,
    private readonly keepMerged: number,
  ) {
    this.server = String(10_000 + (hash32("server", model.seed) % 90_000));
    this.setPrefix();
  }

  private setPrefix(): void {
    // Seed 000 ids look like "37IFXe008i13463": 9 base62 characters, "i", 5 digits. Ours are
    // 4 characters of (seed, generation), 5 of the entry index, so an id maps back to its entry.
    this.prefix = toBase62(hash32(`gen${this.generation}`, this.model.seed) % 62 ** 4, 4);
  }

  sendmailId(index: number): string {
    return `${this.prefix}${toBase62(index, 5)}i${this.server}`;
  }

  /** The entry index of a sendmail id of this generation, or -1. */
  indexOf(sendmailId: string): number {
    if (sendmailId.length !== 15 || !sendmailId.startsWith(this.prefix)) return -1;
    const index = fromBase62(sendmailId.slice(4, 9));
    return index >= 0 && index < this.length ? index : -1;
  }

  private ensureCapacity(): void {
    if (this.length < this.capacity) return;
    const capacity = this.capacity * 2;
    this.accountIndex = grown(this.accountIndex, capacity);
    this.sandbox = grown(this.sandbox, capacity);
    this.sentAtMs = grown(this.sentAtMs, capacity);
    this.nRecipients = grown(this.nRecipients, capacity);
    this.templateId = grown(this.templateId, capacity);
    this.fromId = grown(this.fromId, capacity);
    this.headersId = grown(this.headersId, capacity);
    this.sizeBytes = grown(this.sizeBytes, capacity);
    this.hashes = grown(this.hashes, capacity * HASH_BYTES);
    this.status = grown(this.status, capacity);
    this.deliveryMs = grown(this.deliveryMs, capacity);
    this.opens = grown(this.opens, capacity);
    this.clicks = grown(this.clicks, capacity);
    this.fblMs = grown(this.fblMs, capacity);
    this.unsubscribeMs = grown(this.unsubscribeMs, capacity);
    this.capacity = capacity;
  }

  private headerListId(headers: readonly HeaderPair[]): number {
    const others = headers.filter(([name]) => name.toLowerCase() !== "chid");
    const id = this.strings.id(JSON.stringify(others));
    this.headerCache[id] ??= others.map(([n, v]) => [n, v] as const);
    return id;
  }

  /** Records one accepted message; returns its sendmail id. */
  append(input: LedgerInput): string {
    this.ensureCapacity();
    const i = this.length++;
    const sendmailId = this.sendmailId(i);
    const chid = input.headers.find(([name]) => name.toLowerCase() === "chid")?.[1] ?? null;
    const to = input.to.join(",");
    this.accountIndex[i] = input.accountIndex;
    this.sandbox[i] = input.sandbox ? 1 : 0;
    if (input.sandbox) this.sandboxCount++;
    this.sentAtMs[i] = input.sentAtMs;
    this.nRecipients[i] = input.to.length;
    this.templateId[i] = input.templateId === null ? 0 : Number(input.templateId);
    this.subject.push(input.subject);
    this.fromId[i] = this.strings.id(input.from);
    this.headersId[i] = this.headerListId(input.headers);
    this.sizeBytes[i] = input.sizeBytes;
    this.hashes.set(input.hash.subarray(0, HASH_BYTES), i * HASH_BYTES);
    this.to.push(to);
    this.chid.push(chid);
    const events = input.sandbox ? NO_EVENTS : summarizeEvents(this.model, sendmailId);
    this.status[i] = events.status;
    this.deliveryMs[i] = events.deliveryMs;
    this.opens[i] = events.opens;
    this.clicks[i] = events.clicks;
    this.fblMs[i] = events.fblMs;
    this.unsubscribeMs[i] = events.unsubscribeMs;
    if (chid !== null && !input.sandbox) {
      // A duplicate is the same (to, chid) accepted more than once: what a replayed batch
      // without the sent-report check would cause.
      const first = this.pairs.firstOrAdd(
        hash32(to, hash32(chid)),
        i,
        (other) => this.chid.get(other) === chid && this.to.get(other) === to,
      );
      if (first >= 0) {
        this.duplicates++;
        this.duplicateKeys.set(first, (this.duplicateKeys.get(first) ?? 1) + 1);
      }
    }
    if (this.keepMerged > 0) {
      this.merged.set(i, input.merged);
      if (this.merged.size > this.keepMerged) {
        this.merged.delete(this.merged.keys().next().value as number);
      }
    }
    return sendmailId;
  }

  /** Non-chid headers of an entry, as sent. */
  otherHeaders(i: number): HeaderPair[] {
    return this.headerCache[this.headersId[i] as number] ?? [];
  }

  /** The value of a header on entry i (tracked headers in reports), or null. */
  headerValue(i: number, name: string): string | null {
    if (name.toLowerCase() === "chid") return this.chid.get(i);
    const lower = name.toLowerCase();
    return this.otherHeaders(i).find(([n]) => n.toLowerCase() === lower)?.[1] ?? null;
  }

  /** The recipients of entry i, joined by ",". */
  toOf(i: number): string {
    return this.to.get(i) ?? "";
  }

  subjectOf(i: number): string {
    return this.subject.get(i) ?? "";
  }

  templateIdOf(i: number): string | null {
    const id = this.templateId[i] as number;
    return id === 0 ? null : String(id);
  }

  events(i: number): EventSummary {
    return {
      status: this.status[i] as number,
      deliveryMs: this.deliveryMs[i] as number,
      opens: this.opens[i] as number,
      clicks: this.clicks[i] as number,
      fblMs: this.fblMs[i] as number,
      unsubscribeMs: this.unsubscribeMs[i] as number,
    };
  }

  mergedHash(i: number): string {
    return Buffer.from(this.hashes.subarray(i * HASH_BYTES, (i + 1) * HASH_BYTES)).toString("hex");
  }

  /** The full merged message, when it is among the last `keepMergedMessages`. */
  mergedMessage(i: number): MergedMessage | undefined {
    return this.merged.get(i);
  }

  entry(i: number): LedgerEntry {
    const chid = this.chid.get(i);
    const sentAtMs = this.sentAtMs[i] as number;
    return {
      index: i,
      sendmailId: this.sendmailId(i),
      accountIndex: this.accountIndex[i] as number,
      sandbox: this.sandbox[i] === 1,
      to: this.toOf(i),
      nRecipients: this.nRecipients[i] as number,
      chid,
      headers: [...(chid === null ? [] : [["chid", chid] as const]), ...this.otherHeaders(i)],
      templateId: this.templateIdOf(i),
      subject: this.subjectOf(i),
      from: this.strings.value(this.fromId[i] as number),
      sizeBytes: this.sizeBytes[i] as number,
      mergedHash: this.mergedHash(i),
      sentAt: new Date(sentAtMs).toISOString(),
      sentAtMs,
      events: this.events(i),
    };
  }

  /** Indexes of entries whose chid is in the set (a linear scan: admin use only). */
  findByChids(chids: ReadonlySet<string>): number[] {
    const found: number[] = [];
    for (let i = 0; i < this.length; i++) {
      const chid = this.chid.get(i);
      if (chid != null && chids.has(chid)) found.push(i);
    }
    return found;
  }

  /** Counts per chid for every chid (admin; can be large). */
  countsPerChid(): Map<string, number> {
    const counts = new Map<string, number>();
    for (let i = 0; i < this.length; i++) {
      const chid = this.chid.get(i);
      if (chid !== null) counts.set(chid, (counts.get(chid) ?? 0) + 1);
    }
    return counts;
  }

  clear(): void {
    this.capacity = INITIAL_CAPACITY;
    this.length = 0;
    this.duplicates = 0;
    this.sandboxCount = 0;
    this.generation++;
    this.setPrefix();
    for (const key of [
      "accountIndex",
      "sandbox",
      "nRecipients",
      "status",
      "opens",
      "clicks",
    ] as const) {
      this[key] = new Uint8Array(INITIAL_CAPACITY);
    }
    this.sentAtMs = new Float64Array(INITIAL_CAPACITY);
    this.templateId = new Int32Array(INITIAL_CAPACITY);
    this.subject = new StringColumn();
    this.fromId = new Int32Array(INITIAL_CAPACITY);
    this.headersId = new Int32Array(INITIAL_CAPACITY);
    this.sizeBytes = new Uint32Array(INITIAL_CAPACITY);
    this.hashes = new Uint8Array(INITIAL_CAPACITY * HASH_BYTES);
    this.deliveryMs = new Uint32Array(INITIAL_CAPACITY);
    this.fblMs = new Int32Array(INITIAL_CAPACITY);
    this.unsubscribeMs = new Int32Array(INITIAL_CAPACITY);
    this.to = new StringColumn();
    this.chid = new StringColumn();
    this.pairs = new PairIndex();
    this.duplicateKeys = new Map();
    this.merged = new Map();
  }
}
