// The data pipeline from documents to batches: EOS-separated packing into [T+1] windows that
// overlap by one token, the deterministic hash split (disjoint, stable, about the asked share), the
// bounded seeded shuffle, epochs, streaming (a batch needs only the start of a big file), and a
// loader rebuilt from its saved state giving the same batches as one that never stopped.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { listCorpusFiles } from '../../src/train/data/files.ts';
import { SequencePacker } from '../../src/train/data/packer.ts';
import { ShuffleBuffer } from '../../src/train/data/shuffle.ts';
import { DocumentSplit } from '../../src/train/data/split.ts';
import { TokenStream, type CorpusEncoder } from '../../src/train/data/token-stream.ts';
import { TrainLoader, evalSequences, type LoaderOptions } from '../../src/train/data/loader.ts';
import { TrainError } from '../../src/train/errors.ts';
import { tempDir } from './helpers.ts';

/** One token per character (code + 2); EOS is 1. Counts the characters it was asked to encode. */
function charEncoder(): CorpusEncoder & { chars: number } {
  const enc = {
    eosId: 1,
    chars: 0,
    encodeInto(text: string, out: number[]) {
      enc.chars += text.length;
      for (const ch of text) out.push(ch.codePointAt(0)! + 2);
    },
  };
  return enc;
}

const decode = (ids: ArrayLike<number>) => Array.from(ids, (i) => (i === 1 ? '|' : String.fromCodePoint(i - 2))).join('');

function corpus(dir: string, docs: number, files = 1): string {
  mkdirSync(join(dir, 'c'), { recursive: true });
  for (let f = 0; f < files; f++) {
    const paras = Array.from({ length: docs }, (_, i) => `f${f}d${i} ` + 'abc'.repeat(i % 5));
    writeFileSync(join(dir, 'c', `part${f}.txt`), paras.join('\n\n'));
  }
  return join(dir, 'c');
}

test('packing: EOS after each document, windows of T+1 overlapping by one token', () => {
  const p = new SequencePacker(4);
  p.sink.push(...[10, 11, 12, 13, 14, 15, 16]);
  assert.deepEqual(Array.from(p.pop()!), [10, 11, 12, 13]);
  assert.deepEqual(Array.from(p.pop()!), [13, 14, 15, 16]);
  assert.equal(p.pop(), null);
  assert.deepEqual(Array.from(p.carry()), [16]);
  const q = new SequencePacker(4, p.carry());
  q.sink.push(17, 18, 19);
  assert.deepEqual(Array.from(q.pop()!), [16, 17, 18, 19]);
});

test('token stream: documents joined by EOS; the split is disjoint, stable and about the asked share', (t) => {
  const dir = tempDir(t);
  const files = listCorpusFiles([corpus(dir, 400)], 'c');
  const documents = { textDocuments: 'paragraph' as const, jsonlField: 'text' };
  const read = (take: 'train' | 'validation' | 'all') => {
    const s = new TokenStream({
      files,
      documents,
      encoder: charEncoder(),
      split: new DocumentSplit(0.1),
      take,
      loop: false,
      seed: 0,
      shuffleFiles: false,
      what: 't',
    });
    const out: number[] = [];
    while (s.next(out));
    s.close();
    return decode(out)
      .split('|')
      .filter((d) => d !== '');
  };
  const all = read('all');
  assert.equal(all.length, 400);
  assert.equal(all[1], 'f0d1 abc');
  const train = read('train');
  const val = read('validation');
  assert.equal(train.length + val.length, 400);
  assert.ok(val.length > 20 && val.length < 65, `${val.length} of 400 held out at 10%`);
  assert.deepEqual(new Set([...train, ...val]).size, 400, 'disjoint and complete');
  assert.deepEqual(read('validation'), val, 'the same documents every time');
  const split = new DocumentSplit(0.1);
  assert.equal(split.isValidation('part0.txt', 7), new DocumentSplit(0.1).isValidation('part0.txt', 7));
});

test('shuffle buffer: seeded, a permutation of its input, resumable from a snapshot', () => {
  const src = (start: number, n: number) => {
    let i = start;
    return () => (i < n ? Int32Array.of(i++) : null);
  };
  const a = new ShuffleBuffer(8, 42);
  const s = src(0, 50);
  const out: number[] = [];
  for (let v = a.next(s); v; v = a.next(s)) out.push(v[0]!);
  assert.deepEqual(
    [...out].sort((x, y) => x - y),
    Array.from({ length: 50 }, (_, i) => i),
  );
  assert.notDeepEqual(
    out,
    Array.from({ length: 50 }, (_, i) => i),
    'actually shuffled',
  );
  assert.ok(
    out.slice(0, 8).every((v) => v < 16),
    'bounded: early outputs come from early inputs',
  );
  // Stop after 20, snapshot, continue in a new buffer: same order.
  const b = new ShuffleBuffer(8, 42);
  const sb = src(0, 50);
  const first: number[] = [];
  for (let k = 0; k < 20; k++) first.push(b.next(sb)![0]!);
  const snap = b.snapshot();
  const consumed = 20 + snap.items.length;
  const c = new ShuffleBuffer(8, 42, snap.items, snap.draws);
  const sc = src(consumed, 50);
  const rest: number[] = [];
  for (let v = c.next(sc); v; v = c.next(sc)) rest.push(v[0]!);
  assert.deepEqual([...first, ...rest], out);
  const other = new ShuffleBuffer(8, 43);
  const so = src(0, 50);
  const o2: number[] = [];
  for (let v = other.next(so); v; v = other.next(so)) o2.push(v[0]!);
  assert.notDeepEqual(o2, out, 'another seed, another order');
});

function loaderOptions(files: LoaderOptions['files'], encoder: CorpusEncoder, extra: Partial<LoaderOptions> = {}): LoaderOptions {
  return {
    files,
    documents: { textDocuments: 'paragraph', jsonlField: 'text', chunkBytes: 64 },
    encoder,
    seqLen: 12,
    valFraction: 0.1,
    shuffleBuffer: 16,
    seed: 5,
    ...extra,
  };
}

test('loader: a loader rebuilt from saved state yields the same batches (across epochs and files)', (t) => {
  const dir = tempDir(t);
  const files = listCorpusFiles([corpus(dir, 40, 3)], 'c');
  const straight = new TrainLoader(loaderOptions(files, charEncoder()));
  const want = Array.from({ length: 60 }, () => Array.from(straight.nextBatch(3).data));
  const epochsAtSave: number[] = [];
  for (const stopAt of [0, 1, 7, 31, 50]) {
    const a = new TrainLoader(loaderOptions(files, charEncoder()));
    const got: number[][] = [];
    for (let i = 0; i < stopAt; i++) got.push(Array.from(a.nextBatch(3).data));
    const saved = a.state();
    epochsAtSave.push(saved.stream.epoch);
    a.close();
    const b = new TrainLoader(loaderOptions(files, charEncoder()), structuredClone(saved));
    while (got.length < want.length) got.push(Array.from(b.nextBatch(3).data));
    b.close();
    assert.deepEqual(got, want, `resumed after ${stopAt} batches`);
  }
  assert.ok(
    epochsAtSave.some((e) => e === 0) && epochsAtSave.some((e) => e >= 1),
    `saved in the first epoch and a later one: ${epochsAtSave}`,
  );
  const batch = straight.nextBatch(2);
  assert.deepEqual(batch.shape, [2, 13]);
  assert.equal(batch.dtype, 'i32');
  const otherSeed = new TrainLoader(loaderOptions(files, charEncoder(), { seed: 6 }));
  assert.notDeepEqual(Array.from(otherSeed.nextBatch(3).data), want[0], 'the seed changes the order');
});

test('loader streams: the first batch of a large file reads only its beginning', (t) => {
  const dir = tempDir(t);
  const para = 'some words in a paragraph that repeats. '.repeat(5);
  const path = join(dir, 'big.txt');
  writeFileSync(path, Array.from({ length: 20000 }, (_, i) => `${i} ${para}`).join('\n\n'));
  const enc = charEncoder();
  const loader = new TrainLoader(
    loaderOptions(listCorpusFiles([path], 'c'), enc, {
      documents: { textDocuments: 'paragraph', jsonlField: 'text' },
      shuffleBuffer: 8,
      seqLen: 32,
    }),
  );
  loader.nextBatch(4);
  loader.close();
  assert.ok(enc.chars < 3000, `tokenised ${enc.chars} of ${4e6} characters`);
});

test('evaluation sequences: the held-out documents only, in corpus order, the same every time', (t) => {
  const dir = tempDir(t);
  const files = listCorpusFiles([corpus(dir, 300)], 'c');
  const o = { ...loaderOptions(files, charEncoder()), take: 'validation' as const };
  const a = evalSequences(o, 5);
  assert.equal(a.length, 5);
  assert.deepEqual(evalSequences(o, 5), a);
  const split = new DocumentSplit(0.1);
  const heldOut = new Set(
    Array.from({ length: 300 }, (_, i) => i)
      .filter((i) => split.isValidation('part0.txt', i))
      .map((i) => `f0d${i}`),
  );
  for (const s of a)
    for (const doc of decode(s).split('|')) {
      const name = doc.split(' ')[0]!;
      if (/^f0d\d+$/.test(name)) assert.ok(heldOut.has(name), `${name} is a held-out document`);
    }
  assert.equal(evalSequences({ ...o, seqLen: 100000 }, 5).length, 0, 'too little text: no sequence');
});

test('a corpus with nothing to train on is a user error, not an endless loop', (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'empty.txt');
  writeFileSync(path, '\n\n\n');
  const loader = new TrainLoader(loaderOptions(listCorpusFiles([path], 'c'), charEncoder()));
  assert.throws(
    () => loader.nextBatch(1),
    (e: Error) => e instanceof TrainError && /no train documents/.test(e.message),
  );
});
