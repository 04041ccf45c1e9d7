// Seeded randomness, the same functions as luxsci-sim's src/prng.ts (copied: one simulator does
// not import another), so a run is reproducible from --seed.

/** FNV-1a 32-bit hash of a string, mixed with a numeric seed, with murmur3's finaliser. */
export function hash32(text: string, seed = 0): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** A float in [0, 1) fixed by (text, seed): the same record draws the same every call. */
export function unitDraw(text: string, seed: number): number {
  return hash32(text, seed) / 4294967296;
}

/** mulberry32: a tiny, fast PRNG; returns floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
