// The MTP module run step by step over its own cache while decoding (CausalLM.mtpStep, what
// speculative drafting uses) gives the logits of the training-time forward over the whole sequence
// (mtpLogits): same positions, same rotary offsets, same causal view of earlier positions.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { loadModel } from '../../src/model/load.ts';
import * as T from '../../src/tensor/index.ts';
import { Tensor, noGrad, floatData } from '../../src/tensor/index.ts';
import { maxAbsDiff } from '../helpers/fixtures.ts';

const NANO = join(import.meta.dirname, '../../models/deepseek-ts-nano');

test('deepseek-ts-nano: mtpStep over its cache, in chunks of 5, 1 and 5 positions, equals mtpLogits', () => {
  const { model } = loadModel(NANO);
  const ids = [12, 400, 7, 1033, 56, 56, 980, 3, 77, 2048, 15, 301];
  const L = ids.length;
  noGrad(() => {
    const input = Tensor.from(ids, [1, L], 'i32');
    const { final } = model.forward(input, { logits: 'none' });
    const whole = floatData(model.mtpLogits(input, final).logits[0]!) as Float32Array; // [1, L − 1, V]
    const V = model.vocabSize;
    const caches = [model.newMtpCache(2)]; // small: it must grow
    let at = 0;
    for (const n of [5, 1, 5]) {
      const r = model.mtpStep(
        1,
        T.contiguous(T.slice(final, 1, at, at + n)),
        Tensor.from(ids.slice(at + 1, at + 1 + n), [1, n], 'i32'),
        caches,
      );
      at += n;
      const last = floatData(r.logits) as Float32Array;
      const diff = maxAbsDiff(last, whole.subarray((at - 1) * V, at * V));
      assert.ok(diff < 1e-3, `position ${at - 1}: ${diff}`);
    }
    assert.equal(caches[0]![0]!.length, L - 1);
  });
});
