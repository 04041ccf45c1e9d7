// Seeded randomness: every "random" outcome of a simulator (event outcomes, fault draws, ids)
// comes from here, so a run is reproducible from --seed.

/** FNV-1a 32-bit hash of a string, mixed with a numeric seed. */
export function hash32(text: string, seed = 0): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  // Final avalanche: FNV alone leaves the low bits weakly mixed.
  return fmix32(h);
}

/** An integer index mixed with a numeric seed: no string to build. */
export function hashIndex(index: number, seed = 0): number {
  return fmix32((index ^ Math.imul(seed, 0x9e3779b1)) >>> 0);
}

/** murmur3's 32-bit finaliser: every input bit moves every output bit. */
function fmix32(value: number): number {
  let h = value;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
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

/** An integer in [min, max] drawn from `random`. */
export function randomInt(random: () => number, min: number, max: number): number {
  return min + Math.floor(random() * (max - min + 1));
}

/** One element of a non-empty list drawn from `random`. */
export function pick<T>(random: () => number, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)] as T;
}

const BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

export function toBase62(value: number, width: number): string {
  let out = "";
  let rest = value;
  for (let i = 0; i < width; i++) {
    out = BASE62[rest % 62] + out;
    rest = Math.floor(rest / 62);
  }
  return out;
}

/** Inverse of toBase62; -1 when a character is not base62. */
export function fromBase62(text: string): number {
  let value = 0;
  for (const ch of text) {
    const digit = BASE62.indexOf(ch);
    if (digit < 0) return -1;
    value = value * 62 + digit;
  }
  return value;
}

/** A float in [0, 1) fixed by (text, seed): the same record draws the same every call. */
export function unitDraw(text: string, seed: number): number {
  return hash32(text, seed) / 4294967296;
}
