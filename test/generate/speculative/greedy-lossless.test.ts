// Greedy speculative decoding (MTP drafts, one forward verifies) gives token for token the output of
// ordinary greedy decoding, on every fixture with MTP weights and on the embedded model, for 1 to 4
// draft tokens, alone and in a batch with prompts at other positions.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { loadModel } from '../../../src/model/load.ts';
import { Generator, loadForGeneration, SpeculativeUnavailableError } from '../../../src/generate/index.ts';
import { fixtureWithMtp } from '../../helpers/mtp-fixture.ts';
import { FIXTURE_MODELS, fixture, readGolden } from '../../helpers/fixtures.ts';

const NANO = join(import.meta.dirname, '../../../models/deepseek-ts-nano');

// transformers drops the MTP layer, so the fixtures have none: the DeepSeek-V3 ones get a random one.
const V3_FIXTURES = FIXTURE_MODELS.filter((name) => name.startsWith('deepseek_v3'));

test('the fixtures without MTP weights refuse speculative decoding with a clear error', () => {
  assert.ok(V3_FIXTURES.length >= 1);
  for (const name of FIXTURE_MODELS) {
    const loaded = loadModel(fixture('models', name));
    assert.equal(loaded.model.mtpDepth, 0, name);
    assert.throws(
      () => Generator.forModel(loaded, undefined, { speculative: { method: 'mtp', draftTokens: 2 } }),
      (e: unknown) => e instanceof SpeculativeUnavailableError && /Multi-Token Prediction weights/.test(e.message),
    );
  }
});

function prompts(vocab: number, golden: number[]): number[][] {
  // The golden prompt, a shorter one, and one made of a repeated pattern.
  return [golden, golden.slice(0, 3), Array.from({ length: 12 }, (_, i) => (7 + (i % 4) * 13) % vocab)];
}

for (const name of V3_FIXTURES) {
  test(`${name} with a random MTP module: greedy speculative output equals greedy output (k = 1, 2, 4; alone and batched)`, () => {
    const loaded = fixtureWithMtp(name);
    const golden = [...readGolden(name).get('greedy_prompt')!.data].map(Number);
    const ps = prompts(loaded.model.vocabSize, golden);
    const opts = { maxTokens: 24, sampling: { temperature: 0 }, stopTokenIds: [] };
    const plain = Generator.forModel(loaded).generate(ps, opts);
    let accepted = 0;
    for (const k of [1, 2, 4]) {
      const spec = Generator.forModel(loaded, undefined, { speculative: { method: 'mtp', draftTokens: k } });
      const decoder = spec.decoder();
      const seqs = ps.map((p) => decoder.add(spec.request(p, opts)));
      while (!decoder.idle) decoder.step();
      accepted += decoder.speculator!.total.accepted;
      assert.ok(decoder.speculator!.total.proposed > decoder.speculator!.total.accepted, 'a random draft is sometimes rejected');
      ps.forEach((p, i) => {
        assert.deepEqual(seqs[i]!.generated, plain[i]!.ids, `k=${k}, prompt ${i}, batched`);
        const [alone] = spec.generate([p], opts);
        assert.deepEqual(alone!.ids, plain[i]!.ids, `k=${k}, prompt ${i}, alone`);
      });
    }
    assert.ok(accepted > 0, 'some drafts were accepted (the accept path ran)');
  });
}

test('deepseek-ts-nano: greedy speculative output equals greedy output on poem prompts (k = 1, 3)', () => {
  const setup = loadForGeneration(NANO);
  const ps = ['春眠不覺曉，', '秋夜\n李白\n', '白日依山盡，黃河入海流。'];
  const opts = { maxTokens: 40, sampling: { temperature: 0 } };
  const plain = setup.generator.generate(ps, opts);
  for (const k of [1, 3]) {
    const spec = Generator.forModel(setup, setup.tokenizer, { speculative: { method: 'mtp', draftTokens: k } });
    const out = spec.generate(ps, opts);
    ps.forEach((_, i) => assert.deepEqual(out[i]!.ids, plain[i]!.ids, `k=${k}, prompt ${i}`));
  }
});
