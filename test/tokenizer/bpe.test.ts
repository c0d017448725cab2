// The BPE merge loop against a naive reference implementation (apply the lowest-ranked adjacent
// pair, leftmost first), over words short enough for the rescanning path and long enough for the
// heap path, with a vocabulary trained on mixed text; and the word cache.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BYTE_TO_CHAR, Tokenizer, trainBpe } from '../../src/tokenizer/index.ts';
import { syntheticTokenizer } from './synthetic.ts';

/** Deterministic pseudo-random numbers (mulberry32). */
function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function referenceBpe(word: string, ranks: Map<string, number>): string[] {
  let syms = [...Buffer.from(word, 'utf8')].map((b) => BYTE_TO_CHAR[b]!);
  for (;;) {
    let best = -1;
    let bestRank = Infinity;
    for (let i = 0; i + 1 < syms.length; i++) {
      const r = ranks.get(syms[i] + ' ' + syms[i + 1]);
      if (r !== undefined && r < bestRank) {
        bestRank = r;
        best = i;
      }
    }
    if (best < 0) return syms;
    syms = [...syms.slice(0, best), syms[best]! + syms[best + 1]!, ...syms.slice(best + 2)];
  }
}

const alphabet = 'aaabbcdeeefghiklmnooprsstu 中文字学习的是了。，'.split('');

test('merging equals the reference for short (rescan) and long (heap) words', () => {
  const rand = rng(7);
  const word = (len: number) => Array.from({ length: len }, () => alphabet[Math.floor(rand() * alphabet.length)]).join('');
  const corpus = Array.from({ length: 400 }, () => word(5 + Math.floor(rand() * 60)));
  // One pattern that never splits inside a line, so words are long and the merges rich.
  const trained = trainBpe(corpus, { vocabSize: 900, minFrequency: 2, pattern: '[^\\n]+' });
  const json = trained.tokenizerJson;
  const ranks = new Map(json.model.merges.map((m, r) => [(m as [string, string]).join(' '), r]));
  const tok = new Tokenizer(json);
  let longWords = 0;
  for (let k = 0; k < 300; k++) {
    const w = word(1 + Math.floor(rand() * 120));
    if (Buffer.byteLength(w) > 32) longWords++; // above bpe.ts's SCAN_LIMIT: the heap path
    assert.deepEqual(tok.tokenize(w), referenceBpe(w, ranks), `word ${JSON.stringify(w)}`);
  }
  assert.ok(longWords > 100 && longWords < 290, 'both merge paths were exercised');
});

test('the word cache returns what a fresh computation does', () => {
  const tok = new Tokenizer(
    syntheticTokenizer({
      merges: [
        ['a', 'b'],
        ['ab', 'c'],
      ],
    }),
    {},
    { cacheCapacity: 2 },
  );
  const words = ['abc', 'abab', 'cab', 'abc', 'x', 'abc', 'abab'];
  const first = words.map((w) => tok.encode(w));
  tok.model.clearCache();
  const again = words.map((w) => tok.encode(w));
  assert.deepEqual(again, first);
  assert.deepEqual(tok.tokenize('abcab'), ['abc', 'ab']);
});

test('words missing a byte token drop that byte (HF without unk_token)', () => {
  const json = syntheticTokenizer();
  delete (json.model.vocab as Record<string, number>)[BYTE_TO_CHAR[0x7a]!]; // 'z'
  const tok = new Tokenizer(json);
  assert.deepEqual(tok.tokenize('aza'), ['a', 'a']);
});
