/**
 * FP8 training against BF16 over a whole run (DeepSeek-V3 §3.3): the same small DeepSeek-V3
 * (bench/configs/fp8-run.json, ~2M parameters with MLA, DeepSeekMoE and MTP) trained to the end of
 * its schedule on the nano poetry corpus five times —
 *
 *   f32-s1, f32-s2      f32 GEMMs, seeds 1 and 2: their difference is the noise floor (the seed band)
 *   bf16                bf16-operand block GEMMs (the report's baseline), seed 1
 *   fp8                 FP8 block GEMMs, seed 1
 *   fp8-bf16-moments    FP8 GEMMs and AdamW moments stored in bf16 (§3.3.3), seed 1
 *
 * — then the final held-out CE of each, the relative gaps to BF16, and whether FP8's gap lies within
 * the seed band. Optional runs (only when named in --only): `bf16-s2`, `fp8-s2` and
 * `fp8-bf16-moments-s2` repeat the comparisons at seed 2, to see whether the paired gaps keep their
 * size and sign; `f32-s3` widens the noise floor to three seeds. Runs go to .tmp/bench-fp8/<name>/ (a finished run of the same config is reused;
 * --fresh reruns it); the summary to bench/results/fp8-run.json.
 *
 *   npm run bench:fp8 -- [--corpus .tmp/nano/corpus.jsonl] [--steps N] [--only f32-s1,bf16] [--fresh]
 *
 * The corpus is what scripts/nano/prepare-corpus.ts writes (it fetches the chinese-poetry package
 * with npm); the tokenizer is the shipped models/deepseek-ts-nano/tokenizer.json, trained on it.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { availableParallelism, loadavg } from 'node:os';
import { loadRunConfig, runConfigJson, type RunConfig } from '../src/train/config/run-config.ts';
import { train } from '../src/train/trainer.ts';
import { readMetrics, type EvalMetrics, type StepMetrics } from '../src/train/metrics.ts';
import { METRICS_FILE } from '../src/train/run-dir.ts';
import { precisionGaps, type RunOutcome } from './lib/precision-gaps.ts';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const CONFIG = join(ROOT, 'bench/configs/fp8-run.json');
const RESULTS = join(ROOT, 'bench/results/fp8-run.json');

function flag(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : undefined;
}

interface Variant {
  name: string;
  precision: RunConfig['precision'];
  moments: RunConfig['optimizer']['momentsDtype'];
  seed: number;
  /** Run by default (else only when named in --only); the summary needs every default run. */
  required: boolean;
}

const VARIANTS: Variant[] = [
  { name: 'f32-s1', precision: 'f32', moments: 'f32', seed: 1, required: true },
  { name: 'f32-s2', precision: 'f32', moments: 'f32', seed: 2, required: true },
  { name: 'bf16', precision: 'bf16', moments: 'f32', seed: 1, required: true },
  { name: 'fp8', precision: 'fp8', moments: 'f32', seed: 1, required: true },
  { name: 'fp8-bf16-moments', precision: 'fp8', moments: 'bf16', seed: 1, required: true },
  { name: 'bf16-s2', precision: 'bf16', moments: 'f32', seed: 2, required: false },
  { name: 'fp8-s2', precision: 'fp8', moments: 'f32', seed: 2, required: false },
  { name: 'fp8-bf16-moments-s2', precision: 'fp8', moments: 'bf16', seed: 2, required: false },
  { name: 'f32-s3', precision: 'f32', moments: 'f32', seed: 3, required: false },
];

const corpus = resolve(flag('corpus') ?? join(ROOT, '.tmp/nano/corpus.jsonl'));
if (!existsSync(corpus)) {
  console.error(`no corpus at ${corpus}: make it with \`node --import tsx scripts/nano/prepare-corpus.ts\` or pass --corpus`);
  process.exit(1);
}
const outRoot = join(ROOT, '.tmp/bench-fp8');
const only = flag('only')?.split(',');
const fresh = process.argv.includes('--fresh');
const stepsFlag = flag('steps');

function configOf(v: Variant): RunConfig {
  return loadRunConfig(CONFIG, {
    'data.train': [corpus],
    out: join(outRoot, v.name),
    seed: v.seed,
    precision: v.precision,
    'optimizer.momentsDtype': v.moments,
    steps: stepsFlag === undefined ? undefined : Number(stepsFlag),
  });
}

/** The run's outcome, when its folder holds a finished run of exactly this config. */
function finished(cfg: RunConfig): (RunOutcome & { seconds: number }) | null {
  const metricsPath = join(cfg.out, METRICS_FILE);
  const runJson = join(cfg.out, 'run.json');
  if (!existsSync(metricsPath) || !existsSync(runJson)) return null;
  if (JSON.stringify(JSON.parse(readFileSync(runJson, 'utf8'))) !== JSON.stringify(runConfigJson(cfg))) return null;
  const records = readMetrics(metricsPath);
  const evals = records.filter((r): r is EvalMetrics => r.type === 'eval');
  const last = evals[evals.length - 1];
  if (!last || last.step !== cfg.steps) return null;
  const trains = records.filter((r): r is StepMetrics => r.type === 'train' && r.step > cfg.steps - Math.ceil(cfg.steps / 10));
  const trainCe = trains.reduce((a, r) => a + r.ce, 0) / trains.length;
  const seconds = records.filter((r): r is StepMetrics => r.type === 'train').at(-1)!.elapsed;
  return { name: '', valCe: last.loss, trainCe, seconds };
}

const outcomes: (RunOutcome & { precision: string; moments: string; seed: number; seconds: number })[] = [];
for (const v of VARIANTS) {
  const cfg = configOf(v);
  let done = fresh ? null : finished(cfg);
  if (done) console.error(`${v.name}: reusing the finished run in ${cfg.out}`);
  else if (only ? only.includes(v.name) : v.required) {
    console.error(`${v.name}: training ${cfg.steps} steps (precision ${v.precision}, moments ${v.moments}, seed ${v.seed}) → ${cfg.out}`);
    mkdirSync(outRoot, { recursive: true });
    await train({ config: cfg, force: true, log: (l) => console.error(`  ${l}`) });
    done = finished(cfg);
    if (!done) throw new Error(`${v.name}: the run ended without a final evaluation`);
  }
  if (done) outcomes.push({ ...done, name: v.name, precision: v.precision, moments: v.moments, seed: v.seed });
}

const pct = (x: number) => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(3)}%`;
const names = outcomes.map((o) => o.name);
const complete = VARIANTS.every((v) => !v.required || names.includes(v.name));
const gaps = complete ? precisionGaps(outcomes, 'bf16', ['f32-s1', 'f32-s2']) : null;
const base = configOf(VARIANTS[0]!);
console.log('| run | block GEMMs | AdamW moments | seed | held-out CE | vs bf16 | train CE (last 10%) | vs bf16 | minutes |');
console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
for (const o of outcomes) {
  const vg = gaps ? pct(gaps.valGap[o.name]!) : '—';
  const tg = gaps ? pct(gaps.trainGap[o.name]!) : '—';
  console.log(
    `| ${o.name} | ${o.precision} | ${o.moments} | ${o.seed} | ${o.valCe.toFixed(4)} | ${vg} | ${o.trainCe.toFixed(4)} | ${tg} | ${(o.seconds / 60).toFixed(1)} |`,
  );
}
if (!gaps) {
  console.error(`incomplete (${names.join(', ') || 'no runs'}): no summary written`);
  process.exit(0);
}
console.log(`\nseed band (|f32-s1 − f32-s2| / mean, held-out CE): ${(gaps.seedBand * 100).toFixed(3)}%`);
for (const n of ['fp8', 'fp8-bf16-moments'])
  console.log(`${n}: ${pct(gaps.valGap[n]!)} vs bf16, ${gaps.withinSeedBand[n] ? 'within' : 'outside'} the seed band`);
const seed2 = names.includes('bf16-s2') ? precisionGaps(outcomes, 'bf16-s2', ['f32-s1', 'f32-s2']) : null;
for (const n of ['fp8-s2', 'fp8-bf16-moments-s2'])
  if (seed2 && names.includes(n)) console.log(`${n}: ${pct(seed2.valGap[n]!)} vs bf16-s2 (seed 2)`);
const f32Runs = outcomes.filter((o) => o.precision === 'f32' && o.moments === 'f32').map((o) => o.valCe);
const f32Spread = (Math.max(...f32Runs) - Math.min(...f32Runs)) / (f32Runs.reduce((a, b) => a + b) / f32Runs.length);
console.log(`f32 over ${f32Runs.length} seeds: held-out CE spread (max − min) / mean ${(f32Spread * 100).toFixed(3)}%`);
/** The entries of the seed-2 runs (the seed-2 gaps of seed-1 runs are not paired comparisons). */
const atSeed2 = (gaps: Record<string, number>) =>
  Object.fromEntries(Object.entries(gaps).filter(([n]) => outcomes.find((o) => o.name === n)!.seed === 2));
mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
const summary = {
  what: 'FP8 vs BF16 training over a whole run (DeepSeek-V3 §3.3); see docs/fp8.md',
  command: `npm run bench:fp8${stepsFlag ? ` -- --steps ${stepsFlag}` : ''}`,
  date: new Date().toISOString(),
  machine: { cpus: availableParallelism(), loadavg1: Number(loadavg()[0]!.toFixed(2)) },
  config: 'bench/configs/fp8-run.json',
  steps: base.steps,
  tokensPerStep: base.batchSize * base.gradAccum * base.seqLen,
  runs: outcomes.map((o) => ({ ...o, valGapVsBf16: gaps.valGap[o.name], trainGapVsBf16: gaps.trainGap[o.name] })),
  seedBand: gaps.seedBand,
  withinSeedBand: gaps.withinSeedBand,
  f32Seeds: { count: f32Runs.length, spread: f32Spread },
  ...(seed2 ? { seed2: { valGapVsBf16: atSeed2(seed2.valGap), trainGapVsBf16: atSeed2(seed2.trainGap) } } : {}),
};
writeFileSync(RESULTS, JSON.stringify(summary, null, 2) + '\n');
console.error(`summary → ${RESULTS}`);
