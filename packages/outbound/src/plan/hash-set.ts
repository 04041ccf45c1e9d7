// Set membership for a million emails or contact ids in ~16 MB instead of ~100 MB of heap
// strings: an open-addressing table of 64-bit string hashes, each hash's two halves side by
// side in one typed array (one cache line per probe). Two strings with the same 64-bit hash
// would count as one (for a million keys: odds about 3 in 10^8).

const SEED_HIGH = 0x9e3779b9;
const SEED_LOW = 0x7f4a7c15;
const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/** murmur3's finalizer: spreads FNV's bits over the whole word. */
function mix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

export class StringHashSet {
  /** Slot i holds the hash's halves at 2i (high) and 2i+1 (low); 0, 0 is an empty slot. */
  private table = new Uint32Array(2 << 16);
  private slots = 1 << 16;
  size = 0;

  /** Adds the key; false when it was already there. */
  add(key: string): boolean {
    if ((this.size + 1) * 2 > this.slots) this.grow();
    // Both 32-bit FNV-1a hashes (two seeds) in one pass over the key.
    let high = (FNV_OFFSET ^ SEED_HIGH) >>> 0;
    let low = (FNV_OFFSET ^ SEED_LOW) >>> 0;
    for (let i = 0; i < key.length; i++) {
      const code = key.charCodeAt(i);
      high = Math.imul(high ^ code, FNV_PRIME);
      low = Math.imul(low ^ code, FNV_PRIME);
    }
    high = mix(high);
    low = mix(low);
    // 0, 0 marks an empty slot; the one hash that is 0, 0 shares its slot with 0, 1.
    if (high === 0 && low === 0) low = 1;
    return this.insert(high, low);
  }

  private insert(high: number, low: number): boolean {
    const { table } = this;
    const mask = this.slots - 1;
    for (let slot = low & mask; ; slot = (slot + 1) & mask) {
      const at = slot * 2;
      const h = table[at] as number;
      const l = table[at + 1] as number;
      if (h === 0 && l === 0) {
        table[at] = high;
        table[at + 1] = low;
        this.size++;
        return true;
      }
      if (h === high && l === low) return false;
    }
  }

  private grow(): void {
    const old = this.table;
    this.slots *= 2;
    this.table = new Uint32Array(this.slots * 2);
    this.size = 0;
    for (let at = 0; at < old.length; at += 2) {
      if (old[at] !== 0 || old[at + 1] !== 0) this.insert(old[at] as number, old[at + 1] as number);
    }
  }
}
