// Greedy decoding through the caches reproduces the reference's greedy continuation on every fixture.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadModel } from '../../src/model/load.ts';
import { Generator } from '../../src/generate/index.ts';
import { FIXTURE_MODELS, fixture, readGolden } from '../helpers/fixtures.ts';

for (const name of FIXTURE_MODELS) {
  test(`${name}: greedy continuation of greedy_prompt equals greedy_output`, () => {
    const golden = readGolden(name);
    const prompt = [...golden.get('greedy_prompt')!.data].map(Number);
    const expected = [...golden.get('greedy_output')!.data].map(Number);
    const gen = Generator.forModel(loadModel(fixture('models', name)));
    const [r] = gen.generate([prompt], { maxTokens: expected.length, sampling: { temperature: 0 } });
    assert.deepEqual(r!.ids, expected);
    assert.equal(r!.finishReason, 'length');
  });
}

test('a batch of the five-token and ten-token prompts decodes each as it would alone', () => {
  const golden = readGolden('deepseek_v3_tiny');
  const prompt = [...golden.get('greedy_prompt')!.data].map(Number);
  const gen = Generator.forModel(loadModel(fixture('models', 'deepseek_v3_tiny')));
  const short = prompt.slice(0, 5);
  const opts = { maxTokens: 6, sampling: { temperature: 0 } };
  const [alone] = gen.generate([short], opts);
  const [a, b] = gen.generate([prompt, short], opts);
  assert.deepEqual(a!.ids, [...golden.get('greedy_output')!.data].map(Number).slice(0, 6));
  assert.deepEqual(b!.ids, alone!.ids);
});
