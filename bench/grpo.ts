/**
 * GRPO throughput: rollout tokens/s (every completion of a step decoded in one batch, by group size)
 * and training tokens/s (log-probs, GRPO loss, backward, AdamW over the step's prompt + completion
 * tokens), measured by running `dsts grpo`'s trainer (src/posttrain/grpo, rollout.ts, run/) on a
 * random-weight DeepSeek-V3 (bench/configs/grpo-nano.json: MLA, 16 routed experts + 1 shared;
 * the embedded model's 4096-id tokenizer) — next to TRL's GRPOTrainer on the same checkpoint and
 * settings in the same run (bench/peer/trl_grpo_peer.py; the Python of a venv with torch,
 * transformers and trl, named by TRL_PYTHON: see docs/benchmarks.md).
 *
 *   npm run bench:grpo -- [--groups 4,8,16] [--prompts 2] [--prompt-len 32] [--completion-len 32]
 *                         [--steps 2] [--dir /tmp/dsts-bench] [--no-peer] [--peer-threads N]
 *
 * Each group size runs `--steps` GRPO steps (prompts × group completions each); the first is a
 * warm-up and the figures are the mean of the rest. Both sides: temperature 1, β = 0 (no reference),
 * one iteration, loss dapo, AdamW (0.9, 0.999), lr 1e-6, f32 weights, prompts of exactly
 * `--prompt-len` tokens, completions of `--completion-len` tokens (a random model ends one early at
 * about 1 in 4096 per token: both sides count the tokens they generated).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { initKernels, getKernels } from '../src/kernels/index.ts';
import { loadTokenizer } from '../src/tokenizer/index.ts';
import { grpo, type GrpoMetrics } from '../src/posttrain/grpo/trainer.ts';
import { parseGrpoConfig } from '../src/posttrain/grpo/config.ts';
import { writeRandomCheckpoint } from './lib/random-checkpoint.ts';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));
const CONFIG = here('./configs/grpo-nano.json');
const TOKENIZER = here('../models/deepseek-ts-nano');
const REWARD = here('./lib/grpo-reward.ts');
const PEER = here('./peer/trl_grpo_peer.py');

const { values } = parseArgs({
  options: {
    groups: { type: 'string', default: '4,8,16' },
    prompts: { type: 'string', default: '2' },
    'prompt-len': { type: 'string', default: '32' },
    'completion-len': { type: 'string', default: '32' },
    steps: { type: 'string', default: '2' },
    dir: { type: 'string', default: process.env.DSTS_BENCH_DIR ?? '/tmp/dsts-bench' },
    'no-peer': { type: 'boolean' },
    // torch's threads wait for each other at every op: on a loaded machine 1 thread can be far faster.
    'peer-threads': { type: 'string', default: String(availableParallelism()) },
  },
});
const whole = (name: string, v: string, min: number) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) {
    console.error(`bench:grpo: --${name} expects a whole number ≥ ${min}, got '${v}'`);
    process.exit(1);
  }
  return n;
};
const groups = values.groups.split(',').map((g) => whole('groups', g, 2));
const prompts = whole('prompts', values.prompts, 1);
const promptLen = whole('prompt-len', values['prompt-len'], 1);
const completionLen = whole('completion-len', values['completion-len'], 1);
const steps = whole('steps', values.steps, 2);
const peerThreads = whole('peer-threads', values['peer-threads'], 1);

/** One side's figures for one group size. */
interface Figures {
  rollout: number;
  train: number;
}

await initKernels();
const modelDir = writeRandomCheckpoint(CONFIG, join(values.dir, 'grpo-nano-bf16'), 'bf16', TOKENIZER);
const work = join(values.dir, 'grpo-runs');
mkdirSync(work, { recursive: true });

// Prompts of exactly --prompt-len tokens (the same on both sides: one tokenizer.json), each a prefix
// of a poem cut where its encoding has that many tokens.
const tokenizer = loadTokenizer(modelDir);
const LINES = ['春眠不覺曉，處處聞啼鳥。夜來風雨聲，花落知多少。', '床前明月光，疑是地上霜。舉頭望明月，低頭思故鄉。'];
const promptTexts = Array.from({ length: prompts }, (_, i) => {
  let text = LINES[i % LINES.length]!;
  while (tokenizer.encode(text).length < promptLen * 2) text += LINES[(i + text.length) % LINES.length]!;
  const chars = [...text];
  for (let n = 1; n <= chars.length; n++) {
    const cut = chars.slice(0, n).join('');
    if (tokenizer.encode(cut).length === promptLen) return cut;
  }
  throw new Error(`no prefix of the prompt text is exactly ${promptLen} tokens`);
});
const promptsFile = join(work, 'prompts.jsonl');
writeFileSync(promptsFile, promptTexts.map((prompt) => JSON.stringify({ prompt })).join('\n') + '\n');

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

async function ours(G: number): Promise<Figures> {
  const json = {
    model: modelDir,
    out: join(work, `dsts-g${G}`),
    steps,
    seed: 0,
    data: { train: [promptsFile] },
    promptTemplate: 'plain',
    rewards: [{ module: REWARD }],
    batchSize: prompts,
    optimizer: { lr: 1e-6, beta1: 0.9, beta2: 0.999, weightDecay: 0, gradClip: 1 },
    schedule: { kind: 'constant' },
    checkpoint: { interval: 0, dtype: 'f32' },
    grpo: {
      num_generations: G,
      temperature: 1,
      max_prompt_length: promptLen,
      max_completion_length: completionLen,
      beta: 0,
      loss_type: 'dapo',
    },
  };
  const measured: GrpoMetrics[] = [];
  await grpo({
    config: parseGrpoConfig(json, 'bench:grpo', work),
    force: true,
    onStep: (m) => {
      if (m.step > 1) measured.push(m); // the first step warms up
    },
  });
  return { rollout: mean(measured.map((m) => m.rolloutTokensPerSec)), train: mean(measured.map((m) => m.trainTokensPerSec)) };
}

/** The TRL peer's figures by group size, or why there are none. */
function peer(): Map<number, Figures> | string {
  if (values['no-peer']) return 'not run (--no-peer)';
  const python = process.env.TRL_PYTHON ?? '/tmp/trl-venv/bin/python';
  if (!existsSync(python)) return `peer not installed (no ${python}: see docs/benchmarks.md, or set TRL_PYTHON)`;
  const args = [PEER, '--model', modelDir, '--prompts', promptsFile, '--groups', groups.join(','), '--prompts-per-step', String(prompts)];
  args.push('--prompt-len', String(promptLen), '--completion-len', String(completionLen), '--steps', String(steps), '--out', work);
  args.push('--threads', String(peerThreads));
  const r = spawnSync(python, args, { encoding: 'utf8', maxBuffer: 64 * 2 ** 20 });
  const out = `${r.stdout ?? ''}${r.stderr ?? ''}`;
  if (/No module named '(torch|transformers|trl)'/.test(out)) return `peer not installed (${python} lacks torch, transformers or trl)`;
  const line = (r.stdout ?? '').split('\n').find((l) => l.startsWith('{"trl"'));
  if (r.status !== 0 || !line) return `peer failed: ${out.trim().split('\n').slice(-3).join(' / ')}`;
  const parsed = JSON.parse(line) as {
    trl: string;
    torch: string;
    transformers: string;
    threads: number;
    results: Record<string, Figures>;
  };
  console.log(`peer: trl ${parsed.trl}, transformers ${parsed.transformers}, torch ${parsed.torch} (${parsed.threads} threads)`);
  return new Map(Object.entries(parsed.results).map(([g, f]) => [Number(g), f]));
}

const load = () => `load average ${loadavg()[0]!.toFixed(1)} on ${availableParallelism()} cores`;
console.log(
  `bench:grpo: random DeepSeek-V3 (${CONFIG.split('/').slice(-2).join('/')}), ${prompts} prompts × G completions per step, ` +
    `prompt ${promptLen} + completion ${completionLen} tokens, ${steps} steps (first one warm-up), kernels ${getKernels().name}`,
);
console.log(`${cpus()[0]?.model ?? 'cpu'}; ${load()}`);
const mine = new Map<number, Figures>();
for (const G of groups) {
  mine.set(G, await ours(G));
  console.log(`deepseek-ts G=${G}: rollout ${mine.get(G)!.rollout.toFixed(0)} tok/s, training ${mine.get(G)!.train.toFixed(0)} tok/s`);
}
const theirs = peer();
if (typeof theirs === 'string') console.log(theirs);

const cell = (v: number | undefined) => (v === undefined ? 'n/a' : v.toFixed(0));
const ratio = (a: number, b: number | undefined) => (b === undefined ? 'n/a' : `${(a / b).toFixed(2)}×`);
const rows = [['G', 'rows/step', 'rollout dsts', 'rollout TRL', 'ratio', 'training dsts', 'training TRL', 'ratio']];
for (const G of groups) {
  const a = mine.get(G)!;
  const b = typeof theirs === 'string' ? undefined : theirs.get(G);
  rows.push([
    String(G),
    String(G * prompts),
    cell(a.rollout),
    cell(b?.rollout),
    ratio(a.rollout, b?.rollout),
    cell(a.train),
    cell(b?.train),
    ratio(a.train, b?.train),
  ]);
}
const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
console.log('\ntokens/s (rollout: completion tokens generated; training: prompt + completion tokens through loss, backward and AdamW)');
for (const r of rows) console.log(r.map((v, c) => v.padStart(widths[c]!)).join('  '));
console.log(load());
