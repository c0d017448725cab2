// Decoding through the caches (MLA's latent cache on the absorbed path, GQA's KV cache) gives the
// same logits as one uncached forward over the whole sequence, also for a batch of two sequences at
// different positions decoded together.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadModel } from '../../src/model/load.ts';
import type { CausalLM, SequenceCache } from '../../src/model/causal-lm.ts';
import { LatentCache, KVCache } from '../../src/model/cache.ts';
import { Tensor, noGrad, floatData } from '../../src/tensor/index.ts';
import { fixture, readGolden, maxAbsDiff } from '../helpers/fixtures.ts';

const TOL = 1e-4;

/** Logits [T, V] of an uncached forward over `ids`. */
function fullLogits(model: CausalLM, ids: number[]): Float32Array {
  return floatData(noGrad(() => model.forward(Tensor.from(ids, [1, ids.length], 'i32')).logits!)) as Float32Array;
}

function rowsOf(ids: Tensor, b: number): number[] {
  const T = ids.shape[1]!;
  return [...ids.data.subarray(b * T, (b + 1) * T)].map(Number);
}

const cases = [
  ['deepseek_v3_tiny', LatentCache],
  ['deepseek_v2_tiny', LatentCache],
  ['deepseek_v3_tiny_fp8', LatentCache],
  ['qwen2_tiny', KVCache],
  ['llama_tiny', KVCache],
] as const;

for (const [name, cacheKind] of cases) {
  test(`${name}: cached prefill + batched decode logits equal uncached logits within ${TOL}`, () => {
    const golden = readGolden(name);
    const inputs = golden.get('input_ids')!;
    const a = rowsOf(inputs, 0); // 24 tokens
    const b = rowsOf(inputs, 1).slice(0, 15);
    const { model } = loadModel(fixture('models', name));
    const refA = fullLogits(model, a);
    const refB = fullLogits(model, b);
    const V = model.vocabSize;
    const caches: SequenceCache[] = [model.newCache(4), model.newCache(4)]; // small: growth is exercised too
    assert.ok(caches[0]![0] instanceof cacheKind, `expected a ${cacheKind.name}`);

    // Prefill different lengths, one sequence at a time (as the batch decoder does).
    const prefill = (ids: number[], cache: SequenceCache) =>
      floatData(noGrad(() => model.forward(Tensor.from(ids, [1, ids.length], 'i32'), { caches: [cache] }).logits!)) as Float32Array;
    const pa = prefill(a.slice(0, 7), caches[0]!);
    const pb = prefill(b.slice(0, 3), caches[1]!);
    assert.ok(maxAbsDiff(pa, refA.subarray(0, 7 * V)) < TOL, 'prefill of A');
    assert.ok(maxAbsDiff(pb, refB.subarray(0, 3 * V)) < TOL, 'prefill of B');

    // Then one token per step; both rows together while both have tokens left, A alone after.
    let posA = 7;
    let posB = 3;
    let worst = 0;
    while (posA < a.length) {
      const rows: { ids: number[]; pos: number; ref: Float32Array; cache: SequenceCache }[] = [
        { ids: a, pos: posA, ref: refA, cache: caches[0]! },
      ];
      if (posB < b.length) rows.push({ ids: b, pos: posB, ref: refB, cache: caches[1]! });
      const ids = Tensor.from(
        rows.map((r) => r.ids[r.pos]!),
        [rows.length, 1],
        'i32',
      );
      const out = floatData(noGrad(() => model.forward(ids, { caches: rows.map((r) => r.cache), logits: 'last' }).logits!)) as Float32Array;
      rows.forEach((r, i) => {
        const d = maxAbsDiff(out.subarray(i * V, (i + 1) * V), r.ref.subarray(r.pos * V, (r.pos + 1) * V));
        worst = Math.max(worst, d);
        assert.ok(d < TOL, `row ${i} at position ${r.pos}: max |diff| ${d}`);
      });
      posA++;
      if (posB < b.length) posB++;
    }
    assert.equal(caches[0]![0]!.length, a.length);
    assert.equal(caches[1]![0]!.length, b.length);
    // MLA keeps only the latent and the shared RoPE key per token.
    if (cacheKind === LatentCache) {
      const c = model.layers[0]!.attention as unknown as { dims: { kvLoraRank: number; qkRopeHeadDim: number } };
      assert.equal(caches[0]![0]!.valuesPerToken, c.dims.kvLoraRank + c.dims.qkRopeHeadDim);
    }
    assert.ok(worst < TOL);
  });
}

// A long chunk (a prompt, after a short one) takes MLA's expanded form over the cached latents; a
// second long chunk then attends to the first: both equal the uncached logits.
for (const name of ['deepseek_v3_tiny', 'deepseek_v2_tiny', 'deepseek_v3_tiny_fp8'] as const) {
  test(`${name}: long chunks (expanded MLA over the latent cache) equal uncached logits within ${TOL}`, () => {
    const golden = readGolden(name);
    const a = rowsOf(golden.get('input_ids')!, 0);
    const ids = [...a, ...a.slice(0, 20).reverse(), ...a].slice(0, 60); // past EXPANDED_PREFILL_MIN twice
    const { model } = loadModel(fixture('models', name));
    const ref = fullLogits(model, ids);
    const V = model.vocabSize;
    const cache = model.newCache(8);
    const step = (from: number, to: number) =>
      floatData(
        noGrad(() => model.forward(Tensor.from(ids.slice(from, to), [1, to - from], 'i32'), { caches: [cache] }).logits!),
      ) as Float32Array;
    for (const [from, to] of [
      [0, 3],
      [3, 27],
      [27, 28],
      [28, 60],
    ] as const) {
      const d = maxAbsDiff(step(from, to), ref.subarray(from * V, to * V));
      assert.ok(d < TOL, `tokens ${from}–${to}: max |diff| ${d}`);
    }
  });
}
