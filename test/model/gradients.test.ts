// Loss and d loss / d weight for every weight of every fixture model against the reference (f32 compute).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadModel } from '../../src/model/load.ts';
import * as T from '../../src/tensor/index.ts';
import { FIXTURE_MODELS, fixture, readGolden } from '../helpers/fixtures.ts';

/** Mean next-token cross-entropy over a [B, T] batch (what the goldens' `loss` is). */
function nextTokenLoss(logits: T.Tensor, ids: T.Tensor): T.Tensor {
  const [B, Tn, V] = logits.shape as [number, number, number];
  const pred = T.reshape(T.slice(logits, 1, 0, Tn - 1), [B * (Tn - 1), V]);
  const targets = T.contiguous(T.slice(ids, 1, 1, Tn));
  return T.crossEntropy(pred, T.reshape(targets, [B * (Tn - 1)]));
}

function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num += (a[i]! - b[i]!) ** 2;
    den += b[i]! ** 2;
  }
  return Math.sqrt(num) / Math.max(Math.sqrt(den), 1e-30);
}

for (const name of FIXTURE_MODELS) {
  test(`${name}: loss and every weight gradient match the reference`, () => {
    const golden = readGolden(name);
    const { model, weights } = loadModel(fixture('models', name), { dtype: 'f32' });
    const gradNames = [...golden.keys()].filter((k) => k.startsWith('grad.')).map((k) => k.slice(5));
    assert.ok(gradNames.length > 0);
    for (const n of gradNames) weights.get(n).requireGrad();
    const ids = golden.get('input_ids')!;
    const loss = nextTokenLoss(model.forward(ids).logits!, ids);
    const refLoss = golden.get('loss')!.item();
    assert.ok(Math.abs(loss.item() - refLoss) < 1e-4, `loss ${loss.item()} vs ${refLoss}`);
    T.backward(loss);
    for (const n of gradNames) {
      const w = weights.get(n);
      const ref = T.floatData(golden.get(`grad.${n}`)!);
      // An expert no token was routed to gets no gradient (as in PyTorch); the reference's is zero.
      const got = w.grad ? T.floatData(w.grad) : new Float32Array(w.size);
      if (!w.grad)
        assert.ok(
          ref.every((v) => v === 0),
          `no gradient reached ${n} but the reference has one`,
        );
      const e = w.grad ? relErr(got, ref) : 0;
      assert.ok(e < 1e-3, `grad.${n}: relative error ${e}`);
    }
  });
}
