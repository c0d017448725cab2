import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PrefixCache } from '../../src/serve/engine/prefix-cache.ts';
import { LatentCache } from '../../src/model/cache.ts';
import type { SequenceCache } from '../../src/model/causal-lm.ts';

/** A one-layer cache whose row t holds the value ids[t] (so a copy shows which tokens it covers). */
function cacheFor(ids: number[]): SequenceCache {
  const c = new LatentCache(1, 0, ids.length);
  c.append(Float32Array.from(ids), ids.length);
  return [c];
}

const rows = (cache: SequenceCache) => [...(cache[0] as LatentCache).view().data];
const range = (from: number, n: number) => Array.from({ length: n }, (_, i) => from + i);

test('the longest block-aligned cached prefix is copied out, leaving at least one token to run', () => {
  const pc = new PrefixCache({ blockSize: 4 });
  const a = range(100, 10);
  pc.insert(a, cacheFor(a));
  assert.equal(pc.size, 8, 'only whole blocks are kept');
  const hit = pc.lookup([...a.slice(0, 9), 7, 7], 100, 64)!;
  assert.equal(hit.length, 8);
  assert.deepEqual(rows(hit.cache), a.slice(0, 8));
  assert.equal((hit.cache[0] as LatentCache).capacity, 64);
  // The same 8 tokens as a whole prompt: one must stay to be run, so only the first block is used.
  assert.equal(pc.lookup(a.slice(0, 8), 7, 64)!.length, 4);
  assert.equal(pc.lookup([1, 2, 3, 4, 5], 4, 64), null);
  // Copies are independent: using a hit does not change the entry.
  (hit.cache[0] as LatentCache).truncate(2);
  assert.deepEqual(rows(pc.lookup(a, 9, 16)!.cache), a.slice(0, 8));
});

test('a diverging prompt matches only the blocks it shares', () => {
  const pc = new PrefixCache({ blockSize: 4 });
  const a = range(0, 12);
  pc.insert(a, cacheFor(a));
  const b = [...a.slice(0, 6), 99, 99, 99, 99];
  assert.equal(pc.lookup(b, 9, 16)!.length, 4);
});

test('entries are evicted least recently used past the token budget; covered entries are replaced', () => {
  const pc = new PrefixCache({ blockSize: 4, maxTokens: 16 });
  const a = range(0, 8);
  const b = range(50, 8);
  pc.insert(a, cacheFor(a));
  pc.insert(b, cacheFor(b));
  assert.equal(pc.size, 16);
  assert.ok(pc.lookup([...a, 1], 8, 16), 'a is used, so b is now the oldest');
  const c = range(80, 8);
  pc.insert(c, cacheFor(c));
  assert.equal(pc.size, 16);
  assert.equal(pc.lookup([...b, 1], 8, 16), null, 'b was evicted');
  assert.ok(pc.lookup([...a, 1], 8, 16));
  // A longer continuation of a replaces a (its every prefix is covered).
  const a2 = [...a, 8, 9, 10, 11];
  const big = new PrefixCache({ blockSize: 4 });
  big.insert(a, cacheFor(a));
  big.insert(a2, cacheFor(a2));
  assert.equal(big.size, 12);
  assert.equal(big.lookup([...a2, 0], 12, 16)!.length, 12);
  assert.equal(big.lookup([...a, 0], 8, 16)!.length, 8);
});
