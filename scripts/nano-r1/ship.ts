/**
 * Builds models/deepseek-ts-nano-r1 from a reproduction's work folder (scripts/nano-r1/reproduce.sh):
 * the RL model with the higher held-out pass@1 (R1 or R1-Zero) as bf16 weights, its tokenizer with a
 * chat template that renders the R1-Zero conversation (so `dsts chat` and `dsts serve` ask it the way
 * it was trained), R1's sampling defaults, the evaluation of every stage, the RL curves and samples.
 * Usage: node --import tsx scripts/nano-r1/ship.ts <work folder> <model folder>
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { R1_ZERO_TEMPLATE } from '../../src/posttrain/index.ts';
import type { EvaluationReport, Estimate } from '../../src/posttrain/evaluate.ts';

const [work, out] = process.argv.slice(2) as [string, string];
if (!work || !out) throw new Error('usage: ship.ts <work folder> <model folder>');
mkdirSync(out, { recursive: true });

const STAGES = {
  base: 'base (pre-trained)',
  zero: 'R1-Zero (GRPO from base)',
  sft: 'cold-start SFT of base',
  r1: 'R1 (GRPO from SFT)',
} as const;
type Stage = keyof typeof STAGES;
const evals = Object.fromEntries(
  (Object.keys(STAGES) as Stage[]).map((s) => [s, JSON.parse(readFileSync(join(work, 'eval', `${s}.json`), 'utf8')) as EvaluationReport]),
) as Record<Stage, EvaluationReport>;
const shipped: Stage = evals.r1.pass1.mean >= evals.zero.pass1.mean ? 'r1' : 'zero';
const from = join(work, shipped, 'final');

for (const f of ['config.json', 'model.safetensors', 'tokenizer.json']) copyFileSync(join(from, f), join(out, f));

// The chat template: R1-Zero's conversation around the user's turns, the answer opened inside <think>.
const [preamble] = R1_ZERO_TEMPLATE.split(' User: {prompt}');
const chatTemplate =
  `${preamble}{% for m in messages %}{% if m['role'] == 'user' %} User: {{ m['content'] }}.` +
  `{% elif m['role'] == 'assistant' %} Assistant: {{ m['content'] }}{% endif %}{% endfor %}` +
  `{% if add_generation_prompt %} Assistant: <think>{% endif %}`;
const tokCfg = JSON.parse(readFileSync(join(from, 'tokenizer_config.json'), 'utf8')) as Record<string, unknown>;
writeFileSync(join(out, 'tokenizer_config.json'), JSON.stringify({ ...tokCfg, chat_template: chatTemplate }, null, 2) + '\n');
writeFileSync(
  join(out, 'generation_config.json'),
  JSON.stringify({ bos_token_id: 0, eos_token_id: 1, do_sample: true, temperature: 0.6, top_p: 0.95 }, null, 2) + '\n',
);

// Curves and metrics of both RL runs.
for (const run of ['zero', 'r1'] as const) {
  copyFileSync(join(work, run, 'metrics.jsonl'), join(out, `${run}-metrics.jsonl`));
  const plot = spawnSync(
    process.execPath,
    ['bin/dsts.js', 'plot', join(work, run, 'metrics.jsonl'), '--out', join(out, `${run}-curves.svg`), '--force', '--title', STAGES[run]],
    { stdio: 'inherit' },
  );
  if (plot.status !== 0) throw new Error(`dsts plot failed for ${run}`);
}

const pct = (e: Estimate) => `${(100 * e.mean).toFixed(1)}% [${(100 * e.lo).toFixed(1)}, ${(100 * e.hi).toFixed(1)}]`;
const rows = (Object.keys(STAGES) as Stage[]).map((s) => {
  const e = evals[s];
  const g = e.groups;
  return `| ${STAGES[s]}${s === shipped ? ' — **shipped**' : ''} | ${pct(e.pass1)} | ${g.two ? pct(g.two.pass1) : '—'} | ${g.three ? pct(g.three.pass1) : '—'} | ${pct(e.format)} | ${e.length.toFixed(1)} |`;
});
const results = { shipped, evaluations: evals };
writeFileSync(join(out, 'results.json'), JSON.stringify(results, null, 2) + '\n');

// Samples of the reasoning through R1-Zero's training (one per logged step; a few steps shown).
const samples = readFileSync(join(work, 'zero', 'samples.jsonl'), 'utf8')
  .trim()
  .split('\n')
  .map((l) => JSON.parse(l) as { step: number; prompt: string; completion: string; reward: number });
const last = samples[samples.length - 1]!.step;
const shown = [1, Math.round(last / 4), Math.round(last / 2), last].map((s) => samples.find((x) => x.step >= s)!);
const question = (p: string) => /User: (.*)\. Assistant:$/.exec(p)?.[1] ?? p;
const sampleLines = shown.map((s) => `step ${String(s.step).padStart(3)}  ${question(s.prompt)} →${s.completion}   (reward ${s.reward})`);

const table = [
  '| stage | pass@1 [95% CI] | two terms | three terms | format | tokens |',
  '| --- | --- | --- | --- | --- | --- |',
  ...rows,
].join('\n');

console.log(table);
console.log(sampleLines.join('\n'));
console.log(`shipped ${shipped} → ${out}${existsSync(join(out, 'README.md')) ? '' : ' (write its README.md)'}`);
