/**
 * Padded vocabularies: released checkpoints have more output rows than the tokenizer has tokens
 * (Qwen2: 151936 vs ~151665). Ids without a token are never sampled, greedy or not, so decoding
 * never meets an unknown id.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { Generator, Sampler } from '../../src/generate/index.ts';
import { ScriptedModel } from './scripted-model.ts';
import { tinyTokenizer } from './tiny-tokenizer.ts';

it('the sampler never picks an id at or beyond its vocabulary limit', () => {
  const logits = new Float32Array(10).fill(0);
  logits[8] = 50; // the best logit sits on a padded row
  logits[3] = 1;
  assert.equal(new Sampler({ temperature: 0 }).sample(logits, { prompt: [0], generated: [] }), 8, 'without a limit the padded id wins');
  assert.equal(new Sampler({ temperature: 0 }, 6).sample(logits, { prompt: [0], generated: [] }), 3);
  const s = new Sampler({ temperature: 2, seed: 1 }, 6);
  for (let i = 0; i < 200; i++) assert.ok(s.sample(logits, { prompt: [0], generated: [] }) < 6);
});

it('generation with a model whose output rows outnumber the tokenizer decodes text, never an unknown id', () => {
  const tok = tinyTokenizer();
  const V = tok.vocabSize + 88; // padded rows, as in released checkpoints
  // The model's favourite next token is a padded id whenever the context is even-length.
  const model = new ScriptedModel(V, (ctx) => (ctx.length % 2 === 0 ? V - 1 : 101));
  const gen = new Generator(model, { tokenizer: tok });
  for (const temperature of [0, 1]) {
    const [out] = gen.generate(['ab'], { maxTokens: 8, sampling: { temperature, seed: 3 } });
    assert.ok(
      out!.ids.every((id) => id < tok.vocabSize),
      `ids ${out!.ids}`,
    );
    assert.equal(typeof out!.text, 'string');
  }
});
