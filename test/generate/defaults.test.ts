// Generation defaults from the checkpoint: generation_config.json's sampling fields, R1's
// recommendation for R1-style templates, and `<think>\n` forced where a template leaves it out.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  R1_SAMPLING,
  forceThinkingOpen,
  generationDefaults,
  mergeSampling,
  samplingFromGenerationConfig,
} from '../../src/generate/index.ts';
import { FormatError } from '../../src/io/errors.ts';

function folder(config?: unknown): { dir: string; done: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'dsts-genconf-'));
  if (config !== undefined)
    writeFileSync(join(dir, 'generation_config.json'), typeof config === 'string' ? config : JSON.stringify(config));
  return { dir, done: () => rmSync(dir, { recursive: true, force: true }) };
}

test('generation_config.json sampling fields are read (only those present); do_sample false is greedy', () => {
  // DeepSeek-R1's released generation_config.json.
  assert.deepEqual(samplingFromGenerationConfig({ do_sample: true, temperature: 0.6, top_p: 0.95, bos_token_id: 0, eos_token_id: 1 }), {
    temperature: 0.6,
    topP: 0.95,
  });
  assert.deepEqual(samplingFromGenerationConfig({ temperature: 0.7, top_k: 20, min_p: 0.05, repetition_penalty: 1.05 }), {
    temperature: 0.7,
    topK: 20,
    minP: 0.05,
    repetitionPenalty: 1.05,
  });
  assert.deepEqual(samplingFromGenerationConfig({ do_sample: false, temperature: 0.6 }), { temperature: 0 });
  assert.deepEqual(samplingFromGenerationConfig({ top_p: 1.0, top_k: 0, repetition_penalty: 1.0 }), {}, 'neutral values are no defaults');
  assert.throws(() => samplingFromGenerationConfig({ temperature: -1 }), FormatError);
  assert.throws(() => samplingFromGenerationConfig({ top_p: 'high' }), FormatError);
});

test('a folder: its generation_config.json, else R1 sampling for an R1-style template, else nothing', () => {
  const withFile = folder({ do_sample: true, temperature: 0.8, top_p: 0.9, eos_token_id: [1, 7] });
  const none = folder();
  const bad = folder('{ not json');
  try {
    const r1Template = "{{ '<｜Assistant｜><think>\\n' }}";
    assert.deepEqual(generationDefaults(withFile.dir, r1Template), {
      sampling: { temperature: 0.8, topP: 0.9 },
      source: 'generation_config.json',
      eosTokenIds: [1, 7],
    });
    assert.deepEqual(generationDefaults(none.dir, r1Template), { sampling: { ...R1_SAMPLING }, source: 'r1-template', eosTokenIds: [] });
    assert.deepEqual(generationDefaults(none.dir, ''), { sampling: {}, source: 'none', eosTokenIds: [] });
    assert.throws(() => generationDefaults(bad.dir, ''), FormatError);
  } finally {
    withFile.done();
    none.done();
    bad.done();
  }
  // What the user sets wins; what they leave out keeps the default.
  assert.deepEqual(mergeSampling({ temperature: 0.6, topP: 0.95 }, { temperature: 0, topP: undefined, seed: 3 }), {
    temperature: 0,
    topP: 0.95,
    seed: 3,
  });
});

test('<think>\\n is forced when an R1-style template leaves it out, never after a closed or open block', () => {
  assert.equal(forceThinkingOpen('<｜User｜>hi<｜Assistant｜>'), '<｜User｜>hi<｜Assistant｜><think>\n');
  assert.equal(forceThinkingOpen('<｜User｜>hi<｜Assistant｜><think>\n'), '<｜User｜>hi<｜Assistant｜><think>\n');
  assert.equal(
    forceThinkingOpen('<｜User｜>hi<｜Assistant｜></think>'),
    '<｜User｜>hi<｜Assistant｜></think>',
    'thinking turned off on purpose',
  );
});
