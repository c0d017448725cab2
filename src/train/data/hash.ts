/**
 * Stateless hashing for the data pipeline. The shuffle draws its random numbers as hash(seed, n) for
 * the n-th draw, so the generator's whole state is one counter a checkpoint stores as a number, and
 * the train/validation split hashes each document's name, so it needs no state at all.
 */

/** A well-mixed 32-bit value of two 32-bit inputs (the murmur3 / splitmix finaliser). */
export function mix32(a: number, b: number): number {
  let h = Math.imul((a ^ 0x9e3779b9) >>> 0, 0x85ebca6b) ^ Math.imul(b >>> 0, 0xc2b2ae35);
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d);
  h ^= h >>> 15;
  h = Math.imul(h, 0x846ca68b);
  h ^= h >>> 16;
  return h >>> 0;
}

/** A uniform integer in [0, n) from the `counter`-th draw of the stream `seed`. */
export function drawInt(seed: number, counter: number, n: number): number {
  // Two rounds so counters that differ in high bits (beyond 2^32) still decorrelate.
  const hi = Math.floor(counter / 4294967296);
  const u = mix32(mix32(seed, hi), counter >>> 0);
  return Math.floor((u / 4294967296) * n);
}

/** FNV-1a over a string's UTF-16 units, then mixed: a stable 32-bit hash. */
export function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return mix32(h >>> 0, s.length);
}

/** A seeded permutation of 0..n−1 (Fisher–Yates on hash draws): e.g. the file order of an epoch. */
export function permutation(n: number, seed: number): number[] {
  const p = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = drawInt(seed, i, i + 1);
    [p[i], p[j]] = [p[j]!, p[i]!];
  }
  return p;
}
