// `dsts grpo` end to end on a tiny model: rollouts through the batched decoder, rewards (built-in
// and a user module), every logged metric, a run that raises its reward, exact resume, a throwing
// reward named with its module and example, and decoding that follows the weights after an update.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as T from '../../src/tensor/index.ts';
import { loadModel } from '../../src/model/load.ts';
import { readMetrics } from '../../src/train/metrics.ts';
import { BatchDecoder } from '../../src/generate/batch-decoder.ts';
import { parseGrpoConfig } from '../../src/posttrain/grpo/config.ts';
import { grpo, type GrpoMetrics } from '../../src/posttrain/grpo/trainer.ts';
import { weightsChanged } from '../../src/posttrain/run/weights-changed.ts';
import { PATIENCE_MS } from '../helpers/patience.ts';
import { FAMILIES, tempDir, tinyModel, writeJsonl } from './helpers.ts';

const dsts = fileURLToPath(new URL('../../bin/dsts.js', import.meta.url));
const run = (args: string[], cwd: string) => spawnSync(process.execPath, [dsts, ...args], { encoding: 'utf8', cwd, timeout: PATIENCE_MS });
const grpoSteps = (out: string) => readMetrics(join(out, 'metrics.jsonl')) as unknown as GrpoMetrics[];

/** A reward module: shorter completions score higher (a tiny model can learn to stop sooner). */
const SHORT_REWARD = `export default function short(prompt: string, completion: string, example: { id?: number }): number | null {
  if (example.id === 99) return null;
  return -completion.length / 40;
}
export function broken(_p: string, _c: string, example: { id?: number }): number {
  if (example.id === 2) throw new Error('cannot score this one');
  return 0;
}
`;

function setup(dir: string, model: string, extra: Record<string, unknown> = {}): string {
  writeFileSync(join(dir, 'short.ts'), SHORT_REWARD);
  writeJsonl(join(dir, 'prompts.jsonl'), [
    { id: 1, prompt: 'Add 1 and 2.', answer: '3' },
    { id: 2, prompt: 'What is the capital of France?', answer: 'Paris' },
    { id: 3, prompt: 'Say hello.', answer: 'hello' },
  ]);
  const cfg = {
    model,
    out: 'run',
    data: { train: 'prompts.jsonl' },
    steps: 3,
    batchSize: 2,
    seed: 3,
    rewards: ['accuracy', { type: 'format', weight: 0.5 }, { module: './short.ts', weight: 1 }],
    optimizer: { lr: 0.002, weightDecay: 0 },
    schedule: { kind: 'constant' },
    grpo: {
      num_generations: 4,
      max_completion_length: 12,
      temperature: 1.0,
      beta: 0.04,
      num_iterations: 2,
      epsilon_high: 0.28,
      loss_type: 'grpo',
    },
    ...extra,
  };
  writeFileSync(join(dir, 'grpo.json'), JSON.stringify(cfg));
  return join(dir, 'grpo.json');
}

test('dsts grpo: every metric logged, checkpoints, and an exact resume', (t) => {
  const dir = tempDir(t, 'dsts-grpo-');
  setup(dir, tinyModel(t, 'deepseek_v3_tiny', 'r1'));
  const r = run(['grpo', '--config', 'grpo.json'], dir);
  assert.equal(r.status, 0, r.stderr);
  assert.match(
    r.stderr,
    /step 1: reward -?\d+\.\d+ ± \d+\.\d+, accuracy \d\.\d+, length [\d.]+ \(\d+–\d+\), kl \d+\.\d+, clip \d\.\d+, entropy \d\.\d+, rollout \d+ tok\/s, train \d+ tok\/s/,
  );
  const full = grpoSteps(join(dir, 'run'));
  assert.equal(full.length, 3);
  for (const m of full) {
    assert.equal(m.type, 'grpo');
    for (const k of ['loss', 'reward', 'rewardStd', 'kl', 'entropy', 'rolloutTokensPerSec', 'trainTokensPerSec', 'gradNorm'] as const)
      assert.ok(Number.isFinite(m[k]), `${k} = ${m[k]}`);
    assert.deepEqual(Object.keys(m.rewards), ['accuracy', 'format', 'short']);
    assert.ok(m.completionLength.min >= 1 && m.completionLength.max <= 12);
    assert.ok(m.clip.region >= 0 && m.clip.region <= 1);
    assert.equal(m.accuracy, m.rewards.accuracy!.mean);
  }
  assert.ok(full[2]!.kl > 0, 'the policy moved away from the reference');
  assert.equal(
    readFileSync(join(dir, 'run', 'samples.jsonl'), 'utf8')
      .trim()
      .split('\n').length,
    3,
  );
  // The checkpoint is a model.
  assert.equal(loadModel(join(dir, 'run', 'checkpoint-000003')).config.modelType, 'deepseek_v3');
  // Plot draws the GRPO panels.
  const plot = run(['plot', 'run'], dir);
  assert.equal(plot.status, 0, plot.stderr);
  const svg = readFileSync(join(dir, 'run', 'metrics.svg'), 'utf8');
  for (const title of ['Reward', 'Completion length', 'KL', 'Clip', 'Entropy', 'Tokens/s'])
    assert.ok(svg.includes(title), `plot lacks ${title}`);

  // Two steps, then --resume to three: the same rollouts and numbers.
  assert.equal(run(['grpo', '--config', 'grpo.json', '--out', 'split', '--steps', '2'], dir).status, 0);
  const again = run(['grpo', '--resume', 'split', '--steps', '3'], dir);
  assert.equal(again.status, 0, again.stderr);
  const split = grpoSteps(join(dir, 'split'));
  assert.equal(split.length, 3);
  assert.equal(
    readFileSync(join(dir, 'split', 'samples.jsonl'), 'utf8')
      .trim()
      .split('\n').length,
    3,
  );
  split.forEach((m, i) => {
    assert.equal(m.reward, full[i]!.reward, `step ${i + 1} reward`);
    assert.ok(Math.abs(m.loss - full[i]!.loss) < 1e-6, `step ${i + 1} loss ${m.loss} vs ${full[i]!.loss}`);
  });
});

test('GRPO raises the reward: a tiny model learns to answer shorter', async (t) => {
  const dir = tempDir(t, 'dsts-grpo-learn-');
  const path = setup(dir, tinyModel(t, 'qwen2_tiny', 'v3'));
  const json = JSON.parse(readFileSync(path, 'utf8'));
  const config = parseGrpoConfig(
    {
      ...json,
      steps: 16,
      batchSize: 2,
      rewards: [{ module: './short.ts' }],
      optimizer: { lr: 0.03, weightDecay: 0 },
      grpo: { num_generations: 6, max_completion_length: 16, loss_type: 'dapo' },
    },
    path,
    dir,
  );
  const seen: GrpoMetrics[] = [];
  await grpo({ config, onStep: (m) => seen.push(m) });
  const first = seen.slice(0, 4).reduce((a, m) => a + m.reward, 0) / 4;
  const last = seen.slice(-4).reduce((a, m) => a + m.reward, 0) / 4;
  assert.ok(last > first + 0.05, `reward ${first.toFixed(3)} → ${last.toFixed(3)}`);
});

test('a reward that throws stops the run, naming the module and the example', (t) => {
  const dir = tempDir(t, 'dsts-grpo-broken-');
  setup(dir, tinyModel(t, 'deepseek_v3_tiny', 'v3'), { rewards: [{ module: './short.ts', export: 'broken' }], steps: 4 });
  const r = run(['grpo', '--config', 'grpo.json'], dir);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /\ndsts: reward 'broken' \(.*short\.ts\) threw on example 2 \(line 2\): cannot score this one\n$/);
  setup(dir, tinyModel(t, 'deepseek_v3_tiny', 'v3'), { rewards: [{ module: './nope.ts' }], out: 'run2' });
  const missing = run(['grpo', '--config', 'grpo.json'], dir);
  assert.equal(missing.status, 1);
  assert.match(missing.stderr, /^dsts: reward module .*nope\.ts: no such file\n$/);
  setup(dir, tinyModel(t, 'deepseek_v3_tiny', 'v3'), { grpo: { num_generation: 4 }, out: 'run3' });
  const typo = run(['grpo', '--config', 'grpo.json'], dir);
  assert.equal(typo.status, 1);
  assert.match(typo.stderr, /^dsts: .*'grpo\.num_generation': unknown key/);
});

test("decoding (MLA's absorbed cache path) follows the weights after an in-place update", (t) => {
  const { model, weights } = loadModel(tinyModel(t, 'deepseek_v3_tiny'), { dtype: 'f32' });
  const prompt = [5, 17, 42, 9, 100];
  const decodeLogits = () => {
    const d = new BatchDecoder(model);
    const seq = d.add({ prompt, maxTokens: 1, sampling: { temperature: 0 } });
    d.step();
    return seq.generated[0]!;
  };
  const fullArgmax = () => {
    const row = T.floatData(T.noGrad(() => model.forward(T.Tensor.from(prompt, [1, prompt.length], 'i32'), { logits: 'last' }).logits!));
    return row.indexOf(Math.max(...row));
  };
  assert.equal(decodeLogits(), fullArgmax());
  // Change every kv_b_proj in place, as AdamW does.
  for (const n of weights.names().filter((x) => x.endsWith('kv_b_proj.weight'))) {
    const w = weights.get(n).data as Float32Array;
    for (let i = 0; i < w.length; i++) w[i] = -w[i]! * 3 + 0.01 * (i % 7);
  }
  weightsChanged(model);
  assert.equal(decodeLogits(), fullArgmax());
});

for (const family of FAMILIES) {
  test(`grpo runs on ${family}`, async (t) => {
    const dir = tempDir(t, `dsts-grpo-${family}-`);
    const path = setup(dir, tinyModel(t, family, 'r1'));
    const json = JSON.parse(readFileSync(path, 'utf8'));
    const config = parseGrpoConfig({ ...json, steps: 1, grpo: { num_generations: 2, max_completion_length: 6, beta: 0.1 } }, path, dir);
    const seen: GrpoMetrics[] = [];
    const r = await grpo({ config, onStep: (m) => seen.push(m) });
    assert.equal(r.step, 1);
    assert.ok(Number.isFinite(seen[0]!.loss) && Number.isFinite(seen[0]!.gradNorm));
    assert.equal(loadModel(r.checkpoint!).config.modelType, family.replace('_tiny', ''));
  });
}

test('mask_truncated_completions leaves cut completions out of the loss', async (t) => {
  const dir = tempDir(t, 'dsts-grpo-mask-');
  const path = setup(dir, tinyModel(t, 'deepseek_v3_tiny', 'v3'));
  const json = JSON.parse(readFileSync(path, 'utf8'));
  const seen: GrpoMetrics[] = [];
  const config = parseGrpoConfig(
    { ...json, steps: 1, grpo: { num_generations: 2, max_completion_length: 2, mask_truncated_completions: true } },
    path,
    dir,
  );
  await grpo({ config, onStep: (m) => seen.push(m) });
  const m = seen[0]!;
  assert.equal(m.truncated, 1, 'two tokens of a random 512-token model never reach its EOS');
  assert.equal(m.loss, 0);
  assert.equal(m.gradNorm, 0);
  assert.equal(m.tokens, 0);
});
