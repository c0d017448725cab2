/**
 * One decode-benchmark case, run in a child process of bench/decode.ts so its peak memory is its own:
 * load a checkpoint folder through the real loader (optionally quantising), prefill a random prompt
 * through the cache, then decode greedily at batch 1. Prints one JSON line.
 *
 * usage: node --import tsx bench/lib/decode-case.ts --model <dir> [--quantize s] [--prompt 512] [--tokens 32]
 */
import { parseArgs } from 'node:util';
import { loadModel, type CheckpointWeights } from '../../src/model/load.ts';
import { getKernels, setKernels, type Kernels } from '../../src/kernels/index.ts';
import { Tensor, floatData, noGrad } from '../../src/tensor/index.ts';
import { isMoeLayer, type ModelConfig } from '../../src/io/config.ts';
import type { QuantScheme } from '../../src/kernels/types.ts';

const { values: v } = parseArgs({
  options: {
    model: { type: 'string' },
    quantize: { type: 'string' },
    prompt: { type: 'string', default: '512' },
    tokens: { type: 'string', default: '32' },
  },
});
const P = Number(v.prompt);
const G = Number(v.tokens);

/** Bytes of a held tensor (codes and block scales). */
function bytesOf(t: Tensor): number {
  return t.data.byteLength + (t.scale ? t.scale.scaleInv.byteLength : 0);
}

/**
 * Weight bytes one decoded token reads: every matrix of the main layers and the head, one embedding
 * row, and of the routed experts only the top-k share (MTP layers are not run when decoding).
 */
function bytesPerToken(c: ModelConfig, tensors: ReadonlyMap<string, Tensor>): number {
  let total = 0;
  const moe = c.modelType === 'deepseek_v3' || c.modelType === 'deepseek_v2' ? c : null;
  for (const [name, t] of tensors) {
    const layer = /^model\.layers\.(\d+)\./.exec(name);
    if (layer && Number(layer[1]) >= c.numHiddenLayers) continue;
    if (name === 'model.embed_tokens.weight') {
      total += bytesOf(t) / t.shape[0]!;
      continue;
    }
    if (moe && /\.mlp\.experts\.\d+\./.test(name) && layer && isMoeLayer(moe, Number(layer[1]))) {
      total += (bytesOf(t) * moe.numExpertsPerTok) / moe.nRoutedExperts;
      continue;
    }
    total += bytesOf(t);
  }
  return total;
}

/** Milliseconds spent in each kernel during the timed decode steps (the profile of a step). */
const spent: Record<string, number> = {};
let timing = false;
function timed(k: Kernels): Kernels {
  const wrap = <F extends (...a: never[]) => unknown>(name: string, f: F): F =>
    ((...a: Parameters<F>) => {
      if (!timing) return f(...a);
      const t = performance.now();
      try {
        return f(...a);
      } finally {
        spent[name] = (spent[name] ?? 0) + performance.now() - t;
      }
    }) as F;
  const out: Record<string, unknown> = { name: k.name };
  for (const [key, f] of Object.entries(k)) if (typeof f === 'function') out[key] = wrap(key, f.bind(k));
  return out as unknown as Kernels;
}
setKernels(timed(getKernels()));
const t0 = performance.now();
const { config, model, weights } = loadModel(v.model!, { quantize: v.quantize as QuantScheme | undefined });
const loadS = (performance.now() - t0) / 1000;
const tensors = (weights as CheckpointWeights).loaded();
let weightBytes = 0;
for (const t of tensors.values()) weightBytes += bytesOf(t);

let seed = 7;
const rand = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
const ids = Array.from({ length: P }, () => 2 + Math.floor(rand() * (config.vocabSize - 2)));
const cache = model.newCache(P + G + 2);
const result = noGrad(() => {
  const tp = performance.now();
  let { logits } = model.forward(Tensor.from(ids, [1, P], 'i32'), { caches: [cache], logits: 'last' });
  const prefillS = (performance.now() - tp) / 1000;
  const argmax = () => {
    const d = floatData(logits!);
    let b = 0;
    for (let j = 1; j < d.length; j++) if (d[j]! > d[b]!) b = j;
    return b;
  };
  let next = argmax();
  ({ logits } = model.forward(Tensor.from([next], [1, 1], 'i32'), { caches: [cache], logits: 'last' })); // warm-up step
  next = argmax();
  timing = true;
  const td = performance.now();
  for (let i = 0; i < G; i++) {
    ({ logits } = model.forward(Tensor.from([next], [1, 1], 'i32'), { caches: [cache], logits: 'last' }));
    next = argmax();
  }
  const decodeS = (performance.now() - td) / 1000;
  timing = false;
  return { prefillTokS: P / prefillS, decodeTokS: G / decodeS };
});
console.log(
  JSON.stringify({
    kernels: getKernels().name,
    loadS,
    peakRssBytes: process.resourceUsage().maxRSS * 1024,
    weightBytes,
    bytesPerToken: bytesPerToken(config, tensors),
    prompt: P,
    tokens: G,
    ...result,
    // Per decoded token, in ms: each kernel's share; "other" is JS (tensor ops, allocation, GC).
    profileMsPerToken: Object.fromEntries([
      ...Object.entries(spent).map(([k, ms]) => [k, ms / G]),
      ['other', 1000 / result.decodeTokS - Object.values(spent).reduce((a, b) => a + b, 0) / G],
    ]),
  }),
);
