// Every fixture model's logits and hidden states against HF transformers (float64 goldens), in f32.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadModel } from '../../src/model/load.ts';
import { noGrad, floatData } from '../../src/tensor/index.ts';
import { FIXTURE_MODELS, fixture, readGolden, maxAbsDiff } from '../helpers/fixtures.ts';

for (const name of FIXTURE_MODELS) {
  test(`${name}: logits and hidden states within 1e-3 of the reference`, () => {
    const golden = readGolden(name);
    const { model } = loadModel(fixture('models', name));
    const ids = golden.get('input_ids')!;
    const out = noGrad(() => model.forward(ids, { hiddenStates: true }));
    const hs = out.hiddenStates!;
    assert.equal(hs.length, model.layers.length + 1);
    hs.forEach((h, i) => {
      const ref = golden.get(`hidden_states.${i}`)!;
      assert.deepEqual(h.shape, ref.shape);
      const d = maxAbsDiff(floatData(h), floatData(ref));
      assert.ok(d < 1e-3, `hidden_states.${i}: max |diff| ${d}`);
    });
    const ref = golden.get('logits')!;
    assert.deepEqual(out.logits!.shape, ref.shape);
    const d = maxAbsDiff(floatData(out.logits!), floatData(ref));
    assert.ok(d < 1e-3, `logits: max |diff| ${d}`);
  });
}
