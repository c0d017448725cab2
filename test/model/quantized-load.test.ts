/**
 * Quantisation at load and on disk (`--quantize`, `dsts quantize`), on every fixture family:
 * - the quantised model through the fast kernels computes what the reference kernels compute (fp8:
 *   what its dequantised weights compute in f32; q8 / q4 round activations to int8 per block, as
 *   llama.cpp does, and the reference defines that), and stays near the stored model;
 * - embedding, norms and router stay as stored; a tied head gets a quantised copy;
 * - a checkpoint written by `dsts quantize` loads to the same logits as quantising at load, and its fp8
 *   form is DeepSeek-V3's released layout;
 * - a model that cannot fit is refused before anything is read, saying which scheme would fit.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadModel, type CheckpointWeights } from '../../src/model/load.ts';
import { quantizeCheckpoint } from '../../src/model/quantize-checkpoint.ts';
import { checkFits, runMargin, weightBytes, ModelTooLargeError } from '../../src/model/memory.ts';
import { MapWeights } from '../../src/model/weights.ts';
import { buildModel } from '../../src/model/registry.ts';
import { openCheckpoint } from '../../src/io/safetensors/index.ts';
import { loadConfig } from '../../src/io/config.ts';
import { Tensor, dequantize, floatData, noGrad } from '../../src/tensor/index.ts';
import type { QuantScheme } from '../../src/kernels/types.ts';
import { getKernels, referenceKernels, setKernels } from '../../src/kernels/index.ts';
import { fixture, maxAbsDiff } from '../helpers/fixtures.ts';
import { tempDir } from '../io/tmp.ts';

const MODELS = ['deepseek_v3_tiny', 'deepseek_v2_tiny', 'qwen2_tiny', 'llama_tiny'];
const SCHEMES: QuantScheme[] = ['q8', 'q4', 'fp8'];
const ids = Tensor.from([1, 5, 9, 200, 3, 77, 41, 12], [1, 8], 'i32');

function logits(model: ReturnType<typeof loadModel>['model']): Float32Array {
  return Float32Array.from(floatData(noGrad(() => model.forward(ids).logits!)));
}

describe('quantised loading', () => {
  for (const name of MODELS) {
    const dir = fixture('models', name);
    for (const scheme of SCHEMES) {
      it(`${name}, ${scheme}: equals its dequantised weights in f32, and stays near the stored model`, () => {
        const q = loadModel(dir, { quantize: scheme });
        const held = (q.weights as CheckpointWeights).loaded();
        // What was converted, and what stayed.
        for (const [n, t] of held) {
          const converted = t.dtype === 'i8' || t.dtype === 'i4' || t.dtype === 'e4m3';
          const keep =
            n === 'model.embed_tokens.weight' ||
            /norm\.weight$/.test(n) ||
            /\.mlp\.gate\.weight$/.test(n) ||
            t.rank !== 2 ||
            (n === 'lm_head.weight' && scheme === 'fp8');
          if (keep) assert.ok(!converted, `${n} stays as stored`);
          else assert.ok(converted, `${n} is quantised`);
        }
        if (q.config.tieWordEmbeddings && scheme !== 'fp8')
          assert.ok(held.get('lm_head.weight'), 'a tied head gets its own quantised copy');
        const got = logits(q.model);
        let want: Float32Array;
        if (scheme === 'fp8') {
          const deq = new Map<string, Tensor>();
          for (const [n, t] of held) deq.set(n, t.scale ? dequantize(t) : t);
          want = logits(buildModel(q.config, new MapWeights(deq)));
        } else {
          // The fast set with the reference's quantised products: everything upstream is the same
          // arithmetic, so int8 rounding of the activations cannot flip on a last-bit difference.
          const fast = getKernels();
          setKernels({ ...fast, quantMatmul: referenceKernels.quantMatmul });
          try {
            want = logits(q.model);
          } finally {
            setKernels(fast);
          }
        }
        assert.ok(
          maxAbsDiff(got, want) <= 1e-3 * Math.max(1, ...want.map(Math.abs)),
          `${name} ${scheme}: fast kernels ≠ reference: ${maxAbsDiff(got, want)} vs max ${Math.max(...want.map(Math.abs))}`,
        );
        const stored = logits(loadModel(dir).model);
        const spread = Math.max(...stored) - Math.min(...stored);
        // e4m3 keeps 3 mantissa bits (~6% per weight) against int8's 1/254 of a block's range.
        const bound = scheme === 'q8' ? 0.05 : 0.25;
        assert.ok(
          maxAbsDiff(got, stored) <= bound * spread,
          `${name} ${scheme}: logits moved ${maxAbsDiff(got, stored)} (range ${spread})`,
        );
      });
    }
  }

  for (const scheme of SCHEMES) {
    it(`dsts quantize --scheme ${scheme} loads to the logits of quantising at load`, (t) => {
      const src = fixture('models', 'deepseek_v3_tiny');
      const out = join(tempDir(t), 'q');
      const r = quantizeCheckpoint(src, out, scheme);
      assert.ok(r.quantized > 0 && r.bytesOut < r.bytesIn);
      assert.deepEqual(logits(loadModel(out).model), logits(loadModel(src, { quantize: scheme }).model));
    });
  }

  it('the fp8 output is the released DeepSeek-V3 layout, its config otherwise as written', (t) => {
    const src = fixture('models', 'deepseek_v3_tiny');
    const out = join(tempDir(t), 'fp8');
    quantizeCheckpoint(src, out, 'fp8');
    const ck = openCheckpoint(out);
    const w = ck.info('model.layers.0.self_attn.kv_b_proj.weight');
    const s = ck.info('model.layers.0.self_attn.kv_b_proj.weight_scale_inv');
    assert.equal(w.dtype, 'F8_E4M3');
    assert.equal(s.dtype, 'F32');
    assert.deepEqual(s.shape, [Math.ceil(w.shape[0]! / 128), Math.ceil(w.shape[1]! / 128)]);
    assert.equal(ck.info('model.embed_tokens.weight').dtype, ck.info('model.embed_tokens.weight').dtype);
    assert.notEqual(ck.info('model.layers.1.mlp.gate.weight').dtype, 'F8_E4M3', 'the router stays');
    assert.notEqual(ck.info('lm_head.weight').dtype, 'F8_E4M3', 'the head stays, as in the V3 release');
    ck.close();
    const text = readFileSync(join(out, 'config.json'), 'utf8');
    const json = JSON.parse(text) as Record<string, unknown>;
    assert.deepEqual(json.quantization_config, {
      quant_method: 'fp8',
      fmt: 'e4m3',
      activation_scheme: 'dynamic',
      weight_block_size: [128, 128],
    });
    const original = readFileSync(join(src, 'config.json'), 'utf8');
    assert.ok(text.startsWith(original.replace(/\s*\}\s*$/, '')), 'the rest of config.json is kept byte for byte (0.0 stays 0.0)');
  });

  it('refuses an existing, non-empty output folder', (t) => {
    const src = fixture('models', 'llama_tiny');
    assert.throws(() => quantizeCheckpoint(src, src, 'q8'), /not an empty folder/);
  });
});

describe('memory check before loading', () => {
  const dir = fixture('models', 'deepseek_v3_tiny');
  const config = loadConfig(dir);
  it('refuses what cannot fit, naming the need, what there is, and the scheme that would fit', () => {
    const ck = openCheckpoint(dir);
    const stored = weightBytes(ck, config);
    const q8 = weightBytes(ck, config, 'q8');
    const q4 = weightBytes(ck, config, 'q4');
    assert.ok(q4 < q8 && q8 < stored);
    const have = q8 + runMargin(q8) + 1; // q8 fits, the stored weights do not
    assert.throws(
      () => checkFits(dir, ck, config, undefined, false, have),
      (e: Error) => {
        assert.ok(e instanceof ModelTooLargeError);
        assert.match(e.message, /needs [\d.]+ GB of memory for its weights as stored/);
        assert.match(e.message, /--quantize q8 would need/);
        return true;
      },
    );
    assert.doesNotThrow(() => checkFits(dir, ck, config, 'q8', false, have));
    assert.throws(() => checkFits(dir, ck, config, undefined, false, 1), /No --quantize scheme fits/);
    ck.close();
  });
  it('DSTS_MEMORY_LIMIT_MB makes loadModel refuse before reading', () => {
    process.env.DSTS_MEMORY_LIMIT_MB = '1';
    try {
      assert.throws(() => loadModel(dir), ModelTooLargeError);
    } finally {
      delete process.env.DSTS_MEMORY_LIMIT_MB;
    }
  });
});
