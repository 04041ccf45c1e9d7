// The ordinal of an open or click (packages/inbound README "Identity of an event"): rows of a
// report identical in every column (same message, second, ip, user agent and url) are told
// apart by which of them a row is, counted over one read of the report (one scan: an API
// report read across its pages and imports, or one export file). Rows that identical are
// indistinguishable, so how many one read shows is the truth; the import stores ordinals
// 0..n-1, so a read that sees them again adds nothing and one that sees more adds the rest.
//
// A read of a busy report holds millions of opens, so rows are not kept as strings: each is
// counted under a 64-bit hash of its columns, in an open-addressing table of typed arrays
// (12 bytes a slot, at most half full). Two different rows would share a count only if their
// 64-bit hashes were equal: about n²/2^65 for n rows in one read (3e-8 for a million).

const INITIAL_SLOTS = 1 << 12;
/** FNV-style multipliers of the two hash lanes and the murmur3 finalizer's. */
const LANE_A = 2_654_435_761;
const LANE_B = 1_597_334_677;
const MIX_A = 2_246_822_507;
const MIX_B = 3_266_489_909;
const FIELD_SEPARATOR = 0x1f;

// The two 32-bit lanes of the hash being computed: feed() returns both through these (a pair
// of locals in a loop JITs to a few instructions a character; an object or array per call,
// or a method updating fields, cost several times more on the bench).
let laneA = 0;
let laneB = 0;

/** Feeds `text` and a field separator into the lanes, starting from (a, b). */
function feed(text: string | null, a: number, b: number): void {
  if (text !== null) {
    for (let i = 0; i < text.length; i++) {
      const code = text.charCodeAt(i);
      a = Math.imul(a ^ code, LANE_A);
      b = Math.imul(b ^ code, LANE_B);
    }
  }
  laneA = Math.imul(a ^ FIELD_SEPARATOR, LANE_A);
  laneB = Math.imul(b ^ FIELD_SEPARATOR, LANE_B);
}

/** Counts identical rows within one read of a report; one counter per read. */
export class OccurrenceCounter {
  private slots = INITIAL_SLOTS;
  private used = 0;
  private keyA = new Uint32Array(INITIAL_SLOTS);
  private keyB = new Uint32Array(INITIAL_SLOTS);
  /** Rows seen per slot; 0 marks an empty slot. */
  private counts = new Uint32Array(INITIAL_SLOTS);

  /** This row's ordinal: how many identical rows this read showed before it (0 for the first). */
  next(
    sendmailId: string,
    occurredMs: number,
    ip: string | null,
    userAgent: string | null,
    url: string | null,
  ): number {
    feed(sendmailId, 0xdeadbeef, 0x41c6ce57);
    const high = Math.floor(occurredMs / 2 ** 32);
    const low = occurredMs >>> 0;
    feed(
      ip,
      Math.imul(Math.imul(laneA ^ high, LANE_A) ^ low, LANE_A),
      Math.imul(Math.imul(laneB ^ high, LANE_B) ^ low, LANE_B),
    );
    feed(userAgent, laneA, laneB);
    feed(url, laneA, laneB);
    let a = laneA;
    let b = laneB;
    a = Math.imul(a ^ (a >>> 16), MIX_A) ^ Math.imul(b ^ (b >>> 13), MIX_B);
    b = Math.imul(b ^ (b >>> 16), MIX_A) ^ Math.imul(a ^ (a >>> 13), MIX_B);
    return this.count(a >>> 0, b >>> 0);
  }

  private count(a: number, b: number): number {
    const mask = this.slots - 1;
    for (let slot = a & mask; ; slot = (slot + 1) & mask) {
      const seen = this.counts[slot] as number;
      if (seen === 0) {
        this.keyA[slot] = a;
        this.keyB[slot] = b;
        this.counts[slot] = 1;
        if (++this.used * 2 > this.slots) this.grow();
        return 0;
      }
      if (this.keyA[slot] === a && this.keyB[slot] === b) {
        this.counts[slot] = seen + 1;
        return seen;
      }
    }
  }

  private grow(): void {
    const { keyA, keyB, counts } = this;
    this.slots *= 2;
    this.keyA = new Uint32Array(this.slots);
    this.keyB = new Uint32Array(this.slots);
    this.counts = new Uint32Array(this.slots);
    const mask = this.slots - 1;
    for (let old = 0; old < counts.length; old++) {
      const seen = counts[old] as number;
      if (seen === 0) continue;
      const a = keyA[old] as number;
      let slot = a & mask;
      while (this.counts[slot] !== 0) slot = (slot + 1) & mask;
      this.keyA[slot] = a;
      this.keyB[slot] = keyB[old] as number;
      this.counts[slot] = seen;
    }
  }
}
