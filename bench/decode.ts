/**
 * Decode benchmark: tokens/s of greedy decoding (batch 1, through the MLA latent cache) of a
 * DeepSeek-V3-shaped model with random weights stored in bf16 and in fp8 (e4m3 with 128×128 block
 * scales, as the released V3 checkpoint), next to the memory-bandwidth roofline measured in the same
 * run: decoding one token must read every activated weight once (attention, dense FFN, shared and
 * top-k routed experts, router, output head), so bytes/token ÷ bandwidth bounds tokens/s.
 *
 * Usage: npm run bench:decode [-- --config <config.json> --tokens <n> --seconds <s> --json]
 *   defaults: ../shared/configs/bench_small.json, up to 64 decoded tokens or 15 s per dtype.
 * Env: DSTS_KERNELS=reference forces the reference kernels; DSTS_THREADS sets the WASM threads.
 */
import { parseArgs } from 'node:util';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { loadConfig, type DeepseekV3Config, type DeepseekV2Config } from '../src/io/config.ts';
import { isMoeLayer } from '../src/io/config.ts';
import { initKernels, setKernels, type Kernels } from '../src/kernels/index.ts';
import { initWeights } from '../src/model/init.ts';
import { MapWeights } from '../src/model/weights.ts';
import { buildModel } from '../src/model/registry.ts';
import { Tensor } from '../src/tensor/index.ts';
import { encodeBf16, encodeE4m3 } from '../src/tensor/codecs.ts';
import { BatchDecoder } from '../src/generate/index.ts';

type DeepseekConfig = DeepseekV3Config | DeepseekV2Config;
type Scheme = 'bf16' | 'fp8';

const BLOCK = 128;
const E4M3_MAX = 448;
/** The block projections that DeepSeek-V3 stores in fp8; embedding, head and router stay bf16. */
const FP8_PROJECTION = /\.(q_a_proj|q_b_proj|q_proj|kv_a_proj_with_mqa|kv_b_proj|o_proj|gate_proj|up_proj|down_proj)\.weight$/;

const { values: flags } = parseArgs({
  options: {
    config: { type: 'string', default: fileURLToPath(new URL('../../shared/configs/bench_small.json', import.meta.url)) },
    tokens: { type: 'string', default: '64' },
    seconds: { type: 'string', default: '15' },
    json: { type: 'boolean', default: false },
  },
});
const MAX_TOKENS = Number(flags.tokens);
const SECONDS = Number(flags.seconds);

// ---------------------------------------------------------------------------------------------
// Memory bandwidth: copying a 256 MiB Float32Array (memcpy: each byte read once and written once).

function measureBandwidth(): number {
  const n = 64 << 20;
  const src = new Float32Array(n);
  for (let i = 0; i < n; i += 1024) src[i] = i;
  const dst = new Float32Array(n);
  dst.set(src); // touch both buffers once so page faults are not timed
  let best = 0;
  for (let r = 0; r < 5; r++) {
    const t = performance.now();
    dst.set(src);
    const s = (performance.now() - t) / 1000;
    best = Math.max(best, (2 * n * 4) / s);
  }
  return best;
}

/**
 * What the active kernels stream a large bf16 weight at (y = W·x, W 8192×4096 = 64 MiB, resident in
 * kernel memory after the first call): the best a decode step's matrix-vector products could do.
 */
function measureKernelStreaming(k: Kernels): number {
  const N = 8192;
  const K = 4096;
  const w = new Float32Array(N * K);
  for (let i = 0; i < w.length; i++) w[i] = ((i * 2654435761) % 1000) / 1000 - 0.5;
  const W = { kind: 'bf16' as const, data: encodeBf16(w) };
  const X = new Float32Array(K).fill(0.01);
  const Y = new Float32Array(N);
  const run = () => k.quantMatmul({ M: 1, N, K, X, xOffset: 0, W, Y, yOffset: 0 });
  run();
  let best = 0;
  for (let r = 0; r < 5; r++) {
    const t = performance.now();
    run();
    best = Math.max(best, (N * K * 2) / ((performance.now() - t) / 1000));
  }
  return best;
}

/** The kernels with the time spent in weight mat-vecs (quantMatmul) and in the other kernels counted. */
function timedKernels(k: Kernels, acc: { matvec: number; other: number }): Kernels {
  const time = <A extends unknown[], R>(f: (...a: A) => R, key: 'matvec' | 'other') => (...a: A): R => {
    const t = performance.now();
    try {
      return f(...a);
    } finally {
      acc[key] += performance.now() - t;
    }
  };
  return {
    name: k.name,
    quantMatmul: time((a) => k.quantMatmul(a), 'matvec'),
    quantize: k.quantize,
    gemm: time((a) => k.gemm(a), 'other'),
    rmsNorm: time((...a: Parameters<Kernels['rmsNorm']>) => k.rmsNorm(...a), 'other'),
    siluMul: time((...a: Parameters<Kernels['siluMul']>) => k.siluMul(...a), 'other'),
    softmax: time((...a: Parameters<Kernels['softmax']>) => k.softmax(...a), 'other'),
    crossEntropy: time((...a: Parameters<Kernels['crossEntropy']>) => k.crossEntropy(...a), 'other'),
    attention: time((a) => k.attention(a), 'other'),
    attentionBackward: time((a) => k.attentionBackward(a), 'other'),
  };
}

// ---------------------------------------------------------------------------------------------
// Weights: random f32 (transformers' init), then stored as bf16 or as fp8 with 128×128 block scales.

/** e4m3 codes and per-block scale_inv of a row-major [rows, cols] matrix: each block's max |w| maps to 448. */
function quantiseFp8(w: Float32Array, rows: number, cols: number): { codes: Uint8Array; scaleInv: Float32Array } {
  const br = Math.ceil(rows / BLOCK);
  const bc = Math.ceil(cols / BLOCK);
  const scaleInv = new Float32Array(br * bc);
  for (let r = 0; r < rows; r++) {
    const b = Math.floor(r / BLOCK) * bc;
    for (let c = 0; c < cols; c++) {
      const a = Math.abs(w[r * cols + c]!);
      const k = b + Math.floor(c / BLOCK);
      if (a > scaleInv[k]!) scaleInv[k] = a;
    }
  }
  for (let k = 0; k < scaleInv.length; k++) scaleInv[k] = scaleInv[k]! > 0 ? scaleInv[k]! / E4M3_MAX : 1;
  const scaled = new Float32Array(w.length);
  for (let r = 0; r < rows; r++) {
    const b = Math.floor(r / BLOCK) * bc;
    for (let c = 0; c < cols; c++) scaled[r * cols + c] = w[r * cols + c]! / scaleInv[b + Math.floor(c / BLOCK)]!;
  }
  return { codes: encodeE4m3(scaled), scaleInv };
}

/** The tensor as the scheme stores it: matrices bf16, or fp8 for the block projections; vectors stay f32. */
function store(name: string, t: Tensor, scheme: Scheme): Tensor {
  if (t.rank !== 2) return t;
  const w = t.data as Float32Array;
  const [rows, cols] = t.shape as [number, number];
  if (scheme === 'fp8' && FP8_PROJECTION.test(name)) {
    const { codes, scaleInv } = quantiseFp8(w, rows, cols);
    const q = new Tensor(codes, [rows, cols], 'e4m3');
    q.scale = { scaleInv, blockRows: BLOCK, blockCols: BLOCK };
    return q;
  }
  return new Tensor(encodeBf16(w), [rows, cols], 'bf16');
}

function storedWeights(f32: MapWeights, scheme: Scheme, layers: number): MapWeights {
  const out = new Map<string, Tensor>();
  for (const [name, t] of f32.tensors) {
    const layer = /^model\.layers\.(\d+)\./.exec(name);
    if (layer && Number(layer[1]) >= layers) continue; // MTP modules: not used when decoding
    out.set(name, store(name, t, scheme));
  }
  return new MapWeights(out, `random ${scheme} weights`);
}

// ---------------------------------------------------------------------------------------------
// Bytes one decoded token must read, counted from the config.

interface ByteCount {
  attention: number;
  denseFfn: number;
  router: number;
  sharedExperts: number;
  routedExperts: number;
  head: number;
  /** Embedding row, norms, router bias: small but read. */
  other: number;
  total: number;
}

function matrixBytes(rows: number, cols: number, dtype: 'bf16' | 'fp8'): number {
  if (dtype === 'bf16') return rows * cols * 2;
  return rows * cols + Math.ceil(rows / BLOCK) * Math.ceil(cols / BLOCK) * 4;
}

function bytesPerToken(c: DeepseekConfig, scheme: Scheme): ByteCount {
  const proj = (rows: number, cols: number) => matrixBytes(rows, cols, scheme === 'fp8' ? 'fp8' : 'bf16');
  const wide = (rows: number, cols: number) => matrixBytes(rows, cols, 'bf16');
  const H = c.hiddenSize;
  const heads = c.numAttentionHeads;
  const mlp = (inter: number) => 2 * proj(inter, H) + proj(H, inter);
  let attention = 0;
  let denseFfn = 0;
  let router = 0;
  let sharedExperts = 0;
  let routedExperts = 0;
  let other = H * 2 + H * 4; // embedding row, final norm
  for (let i = 0; i < c.numHiddenLayers; i++) {
    attention += c.qLoraRank === null ? proj(heads * c.qkHeadDim, H) : proj(c.qLoraRank, H) + proj(heads * c.qkHeadDim, c.qLoraRank);
    attention += proj(c.kvLoraRank + c.qkRopeHeadDim, H) + proj(heads * (c.qkNopeHeadDim + c.vHeadDim), c.kvLoraRank) + proj(H, heads * c.vHeadDim);
    other += (2 * H + (c.qLoraRank ?? 0) + c.kvLoraRank) * 4;
    if (!isMoeLayer(c, i)) {
      denseFfn += mlp(c.intermediateSize);
      continue;
    }
    router += wide(c.nRoutedExperts, H);
    other += c.nRoutedExperts * 4;
    if (c.nSharedExperts > 0) sharedExperts += mlp(c.moeIntermediateSize * c.nSharedExperts);
    routedExperts += c.numExpertsPerTok * mlp(c.moeIntermediateSize);
  }
  const head = wide(c.vocabSize, H);
  const total = attention + denseFfn + router + sharedExperts + routedExperts + head + other;
  return { attention, denseFfn, router, sharedExperts, routedExperts, head, other, total };
}

// ---------------------------------------------------------------------------------------------
// Decoding.

interface DecodeResult {
  scheme: Scheme;
  tokens: number;
  seconds: number;
  /** Over all timed tokens. */
  tokensPerSecond: number;
  /** Over the fastest window of WINDOW tokens (the machine is shared: this is what it can do when quiet). */
  bestTokensPerSecond: number;
  /** The first prefill: includes moving the weights into kernel memory on first use. */
  firstPrefillMs: number;
  /** Per decoded token, from a separate instrumented run: weight mat-vec kernels, other kernels, the rest. */
  split: { matvecMs: number; otherKernelsMs: number; restMs: number };
}

const PROMPT_LENGTH = 64;
const WINDOW = 8;
const INSTRUMENTED_STEPS = 8;

function decode(c: DeepseekConfig, weights: MapWeights, scheme: Scheme, kernels: Kernels): DecodeResult {
  const model = buildModel(c, weights);
  const decoder = new BatchDecoder(model, { maxContext: c.maxPositionEmbeddings });
  // 64 prompt tokens route to (almost surely) every expert of every layer, so the prefill brings all
  // weights into kernel memory and the timed steps measure steady-state decoding.
  const prompt = Array.from({ length: PROMPT_LENGTH }, (_, i) => (i * 7919 + 13) % c.vocabSize);
  decoder.add({ prompt, maxTokens: MAX_TOKENS + 3 + INSTRUMENTED_STEPS, sampling: { temperature: 0 }, stopTokenIds: [] });
  let t = performance.now();
  decoder.step(); // prefill (and the first token)
  const firstPrefillMs = performance.now() - t;
  decoder.step(); // warm-up: the first decode step decodes kv_b_proj for the absorbed attention
  decoder.step();
  let tokens = 0;
  let best = 0;
  const start = performance.now();
  while (!decoder.idle && tokens < MAX_TOKENS && (tokens < WINDOW || performance.now() - start < SECONDS * 1000)) {
    const w = performance.now();
    for (let i = 0; i < WINDOW && !decoder.idle; i++, tokens++) decoder.step();
    best = Math.max(best, WINDOW / ((performance.now() - w) / 1000));
  }
  const seconds = (performance.now() - start) / 1000;

  // Where the time goes: the same steps again with the kernels timed (not part of tokens/s).
  const acc = { matvec: 0, other: 0 };
  setKernels(timedKernels(kernels, acc));
  t = performance.now();
  for (let i = 0; i < INSTRUMENTED_STEPS && !decoder.idle; i++) decoder.step();
  const total = performance.now() - t;
  setKernels(kernels);
  const per = (ms: number) => ms / INSTRUMENTED_STEPS;
  const split = { matvecMs: per(acc.matvec), otherKernelsMs: per(acc.other), restMs: per(total - acc.matvec - acc.other) };
  return { scheme, tokens, seconds, tokensPerSecond: tokens / seconds, bestTokensPerSecond: best, firstPrefillMs, split };
}

// ---------------------------------------------------------------------------------------------

const config = loadConfig(flags.config);
if (config.modelType !== 'deepseek_v3' && config.modelType !== 'deepseek_v2') throw new Error(`bench:decode needs a DeepSeek config, got ${config.modelType}`);
const c = config;
const kernels = await initKernels();
// The machine is shared: bandwidth is measured before, between and after the runs, and the best
// figure is the roofline (the most the memory can do), so contention cannot flatter the ratio.
const bandwidths = [measureBandwidth()];
const kernelStreaming = measureKernelStreaming(kernels);

const t0 = performance.now();
// MTP modules are not used when decoding: leave them out.
const f32 = initWeights({ ...c, numNextnPredictLayers: 0 }, 1234);
const initSeconds = (performance.now() - t0) / 1000;

const runs: DecodeResult[] = [];
for (const scheme of ['bf16', 'fp8'] as const) {
  runs.push(decode(c, storedWeights(f32, scheme, c.numHiddenLayers), scheme, kernels));
  bandwidths.push(measureBandwidth());
}
const bandwidth = Math.max(...bandwidths);
const results = runs.map((r) => {
  const bytes = bytesPerToken(c, r.scheme);
  const roofline = bandwidth / bytes.total;
  return { ...r, bytes, rooflineTokensPerSecond: roofline, ratio: r.tokensPerSecond / roofline, bestRatio: r.bestTokensPerSecond / roofline };
});

const latent = c.kvLoraRank + c.qkRopeHeadDim;
const cache = {
  latentValuesPerToken: latent * c.numHiddenLayers,
  latentBytesF32: latent * c.numHiddenLayers * 4,
  latentBytesBf16: latent * c.numHiddenLayers * 2,
  /** What per-head keys (nope + rope dims) and values would take, per token, over all layers. */
  fullKvValuesPerToken: c.numAttentionHeads * (c.qkHeadDim + c.vHeadDim) * c.numHiddenLayers,
};

if (flags.json) {
  console.log(JSON.stringify({ config: c.source, kernels: kernels.name, bandwidthBytesPerSecond: bandwidth, bandwidthSamples: bandwidths, kernelStreamingBytesPerSecond: kernelStreaming, results, cache }));
} else {
  const mb = (b: number) => `${(b / 1e6).toFixed(1)} MB`;
  const kib = (b: number) => `${(b / 1024).toFixed(2)} KiB`;
  console.log(`decode benchmark — ${c.source}`);
  console.log(`  ${c.modelType}: ${c.numHiddenLayers} layers, hidden ${c.hiddenSize}, ${c.nRoutedExperts} routed experts (top-${c.numExpertsPerTok}) + ${c.nSharedExperts} shared, vocab ${c.vocabSize}`);
  console.log(`  kernels: ${kernels.name}`);
  console.log(
    `  memory bandwidth (256 MiB Float32Array copy, read + write): ${(bandwidth / 1e9).toFixed(1)} GB/s (best of ${bandwidths.map((b) => (b / 1e9).toFixed(1)).join(', ')}; load average ${loadavg()[0]!.toFixed(1)} on ${cpus().length} cores)`,
  );
  console.log(`  kernel streaming (bf16 mat-vec, 8192×4096, resident): ${(kernelStreaming / 1e9).toFixed(1)} GB/s`);
  console.log(`  random init: ${initSeconds.toFixed(1)} s; greedy, batch 1, ${PROMPT_LENGTH}-token prompt, latent cache`);
  console.log('');
  console.log('  weights read per token       bf16         fp8');
  const keys: [keyof ByteCount, string][] = [
    ['attention', 'attention (MLA)'],
    ['denseFfn', 'dense FFN'],
    ['sharedExperts', 'shared experts'],
    ['routedExperts', `routed experts (${c.numExpertsPerTok} of ${c.nRoutedExperts})`],
    ['router', 'router'],
    ['head', 'output head'],
    ['other', 'norms, embedding row'],
    ['total', 'total'],
  ];
  for (const [k, label] of keys) console.log(`    ${label.padEnd(26)} ${mb(results[0]!.bytes[k]).padStart(9)}  ${mb(results[1]!.bytes[k]).padStart(10)}`);
  console.log('');
  const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
  console.log(`  dtype   tokens/s   ms/token   roofline tokens/s   of roofline   best ${WINDOW}-token window   tokens timed   first prefill`);
  for (const r of results) {
    console.log(
      `  ${r.scheme.padEnd(6)} ${r.tokensPerSecond.toFixed(1).padStart(9)} ${(1000 / r.tokensPerSecond).toFixed(1).padStart(10)} ${r.rooflineTokensPerSecond
        .toFixed(0)
        .padStart(19)} ${pct(r.ratio).padStart(13)} ${`${r.bestTokensPerSecond.toFixed(1)} tok/s = ${pct(r.bestRatio)}`.padStart(24)} ${String(r.tokens).padStart(14)} ${`${r.firstPrefillMs.toFixed(0)} ms`.padStart(15)}`,
    );
  }
  console.log('');
  console.log('  where a decode step goes (instrumented run)   weight mat-vecs          other kernels   the rest (tensor ops, allocation, GC)');
  for (const r of results) {
    const gbs = r.bytes.total / (r.split.matvecMs / 1000) / 1e9;
    console.log(
      `  ${r.scheme.padEnd(44)} ${`${r.split.matvecMs.toFixed(1)} ms (${gbs.toFixed(1)} GB/s)`.padStart(22)} ${`${r.split.otherKernelsMs.toFixed(1)} ms`.padStart(15)}   ${r.split.restMs.toFixed(1)} ms`,
    );
  }
  console.log('');
  console.log(`  MLA cache per token: (${c.kvLoraRank} + ${c.qkRopeHeadDim}) × ${c.numHiddenLayers} layers = ${cache.latentValuesPerToken} values: ${kib(cache.latentBytesF32)} in f32 (as cached here), ${kib(cache.latentBytesBf16)} in bf16`);
  console.log(
    `  full multi-head K/V would be ${c.numAttentionHeads} heads × (${c.qkHeadDim} + ${c.vHeadDim}) × ${c.numHiddenLayers} layers = ${cache.fullKvValuesPerToken} values: ${kib(cache.fullKvValuesPerToken * 4)} f32, ${kib(cache.fullKvValuesPerToken * 2)} bf16 (${(cache.fullKvValuesPerToken / cache.latentValuesPerToken).toFixed(1)}× the latent cache)`,
  );
}
