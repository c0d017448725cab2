/**
 * The measurement of scripts/distill-nano/reproduce.sh: every student's final checkpoint and the
 * teacher on the whole held-out split (perplexity), each run's training speed (tokens/s over the
 * run), the error of the top-k teacher cache against the full distribution (on held-out text, at
 * the scratch student), a comparison figure, and the best student copied to a model folder.
 *
 * Writes <dir>/results.json, <dir>/compare.svg and <dir>/topk-error.svg; prints a Markdown table.
 * Usage: node --import tsx scripts/distill-nano/compare.ts <.tmp/distill-nano> <model folder>
 */
import { copyFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as T from '../../src/tensor/index.ts';
import { Tensor } from '../../src/tensor/index.ts';
import { loadModel } from '../../src/model/load.ts';
import { evaluate } from '../../src/train/evaluate.ts';
import { evalSequences } from '../../src/train/data/loader.ts';
import { listCorpusFiles } from '../../src/train/data/files.ts';
import { corpusEncoder } from '../../src/train/data/encoder.ts';
import { openTokenizer } from '../../src/train/tokenizer-setup.ts';
import { resolveCheckpoint } from '../../src/train/checkpoint.ts';
import { readMetrics, type EvalMetrics, type StepMetrics } from '../../src/train/metrics.ts';
import { PALETTE, renderSvg, type Panel } from '../../src/train/plot/svg.ts';
import { softLabelLoss, expandTopK } from '../../src/posttrain/distill/losses.ts';
import { topKLogprobs } from '../../src/posttrain/distill/teacher-cache.ts';

const [dir, modelOut] = process.argv.slice(2);
if (!dir || !modelOut) {
  console.error('usage: compare.ts <work dir> <model folder to ship the best student to>');
  process.exit(1);
}
const TEACHER = 'models/deepseek-ts-nano';
const RUNS = [
  { name: 'scratch', label: 'from scratch on the data' },
  { name: 'sequence', label: 'sequence-level (teacher poems)' },
  { name: 'soft', label: '+ soft labels (top-32, α ½, T 1)' },
  { name: 'hidden', label: '+ hidden states (cosine, 2 pairs)' },
] as const;
const SEQ_LEN = 128;

const tok = openTokenizer(TEACHER).tokenizer;
const encoder = corpusEncoder(tok, null);
const heldout = evalSequences(
  {
    files: listCorpusFiles([join(dir, 'heldout.jsonl')], 'held-out'),
    documents: { textDocuments: 'file', jsonlField: 'text' },
    encoder,
    seqLen: SEQ_LEN,
    valFraction: 0,
    seed: 1,
    take: 'all',
  },
  Infinity,
);
console.error(`held-out: ${heldout.length} sequences of ${SEQ_LEN + 1} tokens`);

const teacher = loadModel(TEACHER, { dtype: 'f32' }).model;
const teacherEval = evaluate(teacher, heldout, 8);
console.error(`teacher: perplexity ${teacherEval.ppl.toFixed(2)}`);

interface RunResult {
  name: string;
  label: string;
  checkpoint: string;
  heldoutLoss: number;
  heldoutPpl: number;
  tokens: number;
  trainSeconds: number;
  tokensPerSec: number;
  evals: [number, number][];
}
const results: RunResult[] = [];
for (const run of RUNS) {
  const runDir = join(dir, 'runs', run.name);
  if (!existsSync(runDir)) continue;
  const { checkpoint } = resolveCheckpoint(runDir);
  const r = evaluate(loadModel(checkpoint, { dtype: 'f32' }).model, heldout, 8);
  const records = readMetrics(join(runDir, 'metrics.jsonl'));
  const steps = records.filter((m): m is StepMetrics => m.type === 'train');
  const last = steps.at(-1)!;
  results.push({
    ...run,
    checkpoint,
    heldoutLoss: r.loss,
    heldoutPpl: r.ppl,
    tokens: last.tokens,
    trainSeconds: last.elapsed,
    tokensPerSec: last.tokens / last.elapsed,
    evals: records.filter((m): m is EvalMetrics => m.type === 'eval').map((m) => [m.step * 8 * SEQ_LEN, m.ppl]),
  });
  console.error(`${run.name}: perplexity ${r.ppl.toFixed(2)}`);
}

// The top-k cache against the full teacher distribution, on held-out text at the scratch student.
const probe = heldout.slice(0, 16);
const L = SEQ_LEN;
const inputs = new Int32Array(probe.length * L);
probe.forEach((s, b) => inputs.set(s.subarray(0, L), b * L));
const ids = new Tensor(inputs, [probe.length, L], 'i32');
const V = tok.vocabSize;
const tLogits = T.noGrad(() => T.reshape(teacher.forward(ids).logits!, [probe.length * L, V]));
const scratch = results.find((r) => r.name === 'scratch');
const sLogits = scratch
  ? T.noGrad(() => T.reshape(loadModel(scratch.checkpoint, { dtype: 'f32' }).model.forward(ids).logits!, [probe.length * L, V]))
  : null;
const topk: { k: number; mass: number; klToFull: number; lossFull: number; lossTopK: number; relError: number }[] = [];
for (const k of [1, 2, 4, 8, 16, 32, 64, 128, 256, 512]) {
  const top = topKLogprobs(tLogits, k, 1);
  const rows = probe.length * L;
  const full = new Float64Array(V);
  const approx = new Float64Array(V);
  let mass = 0;
  let kl = 0;
  const z = T.floatData(tLogits);
  for (let r = 0; r < rows; r++) {
    let max = -Infinity;
    for (let j = 0; j < V; j++) max = Math.max(max, z[r * V + j]!);
    let s = 0;
    for (let j = 0; j < V; j++) s += Math.exp(z[r * V + j]! - max);
    for (let j = 0; j < V; j++) full[j] = z[r * V + j]! - max - Math.log(s);
    expandTopK(top.indices, top.logprobs, r * k, k, V, approx);
    for (let i = 0; i < k; i++) mass += Math.exp(top.logprobs[r * k + i]!) / rows;
    for (let j = 0; j < V; j++) kl += (Math.exp(full[j]!) * (full[j]! - approx[j]!)) / rows;
  }
  const o = { divergence: 'forward_kl' as const, beta: 0, temperature: 1, scaleT2: true };
  const lossFull = sLogits ? softLabelLoss(sLogits, { kind: 'logits', logits: tLogits }, o).item() : NaN;
  const lossTopK = sLogits ? softLabelLoss(sLogits, { kind: 'topk', ...top }, o).item() : NaN;
  topk.push({ k, mass, klToFull: kl, lossFull, lossTopK, relError: Math.abs(lossTopK - lossFull) / lossFull });
}

const best = [...results].sort((a, b) => a.heldoutPpl - b.heldoutPpl)[0]!;
const summary = {
  teacher: { dir: TEACHER, heldoutLoss: teacherEval.loss, heldoutPpl: teacherEval.ppl },
  heldout: { sequences: heldout.length, tokens: teacherEval.tokens },
  runs: results,
  topk,
  best: best.name,
};
writeFileSync(join(dir, 'results.json'), JSON.stringify(summary, null, 2) + '\n');

const panels: Panel[] = [
  {
    title: 'held-out perplexity during training (64 sequences), same student, same tokens',
    xLabel: 'training tokens',
    yLabel: 'perplexity',
    logY: true,
    series: [
      ...results.map((r, i) => ({ label: r.label, points: r.evals, color: PALETTE[i]!, markers: true })),
      {
        label: `teacher (deepseek-ts-nano): ${teacherEval.ppl.toFixed(1)}`,
        points: [
          [0, teacherEval.ppl],
          [results[0]?.tokens ?? 1, teacherEval.ppl],
        ] as [number, number][],
        color: PALETTE[7]!,
        dashed: true,
      },
    ],
  },
];
writeFileSync(join(dir, 'compare.svg'), renderSvg(panels, 'deepseek-ts-nano (DeepSeek-V3 MoE, 4.2M) → Llama 1.1M'));
writeFileSync(
  join(dir, 'topk-error.svg'),
  renderSvg(
    [
      {
        title: 'teacher mass in the top k, and KL(full ‖ top-k + even tail) per position',
        xLabel: 'log2 k',
        yLabel: 'nats / mass',
        series: [
          { label: 'mass in the top k', points: topk.map((t) => [Math.log2(t.k), t.mass]), color: PALETTE[0]!, markers: true },
          { label: 'KL(full ‖ top-k) nats', points: topk.map((t) => [Math.log2(t.k), t.klToFull]), color: PALETTE[1]!, markers: true },
          {
            label: 'relative error of the soft loss',
            points: topk.map((t) => [Math.log2(t.k), t.relError]),
            color: PALETTE[2]!,
            markers: true,
          },
        ],
      },
    ],
    'the top-k teacher cache against the full distribution (held-out, 2048 positions)',
  ),
);

const pad = (s: string, n: number) => s.padEnd(n);
console.log(`| run | held-out perplexity | held-out CE (nats) | tokens | tokens/s |`);
console.log(`| --- | --- | --- | --- | --- |`);
console.log(`| teacher (deepseek-ts-nano) | ${teacherEval.ppl.toFixed(2)} | ${teacherEval.loss.toFixed(4)} | 1.64M | |`);
for (const r of results)
  console.log(
    `| ${pad(r.label, 10)} | ${r.heldoutPpl.toFixed(2)} | ${r.heldoutLoss.toFixed(4)} | ${r.tokens} | ${r.tokensPerSec.toFixed(0)} |`,
  );
console.log(`\n| k | teacher mass in top k | KL(full ‖ top-k) | soft loss full | soft loss top-k | relative error |`);
console.log(`| --- | --- | --- | --- | --- | --- |`);
for (const t of topk)
  console.log(
    `| ${t.k} | ${t.mass.toFixed(4)} | ${t.klToFull.toFixed(4)} | ${t.lossFull.toFixed(4)} | ${t.lossTopK.toFixed(4)} | ${(100 * t.relError).toFixed(2)}% |`,
  );

// Ship the best student.
mkdirSync(modelOut, { recursive: true });
for (const f of ['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json'])
  copyFileSync(join(best.checkpoint, f), join(modelOut, f));
copyFileSync(join(TEACHER, 'generation_config.json'), join(modelOut, 'generation_config.json'));
const bestRun = join(dir, 'runs', best.name);
copyFileSync(join(bestRun, 'metrics.jsonl'), join(modelOut, 'metrics.jsonl'));
copyFileSync(join(bestRun, 'run.json'), join(modelOut, 'distill.json'));
if (existsSync(join(bestRun, 'loss.svg'))) copyFileSync(join(bestRun, 'loss.svg'), join(modelOut, 'loss.svg'));
copyFileSync(join(dir, 'compare.svg'), join(modelOut, 'compare.svg'));
copyFileSync(join(dir, 'topk-error.svg'), join(modelOut, 'topk-error.svg'));
copyFileSync(join(dir, 'results.json'), join(modelOut, 'results.json'));
console.error(`best: ${best.name} (perplexity ${best.heldoutPpl.toFixed(2)}) → ${modelOut}`);
