/**
 * Speculative decoding benchmark: the MTP module of models/deepseek-ts-nano drafts k tokens, one
 * forward verifies them (src/generate/speculative). On prompts from the nano model's held-out
 * documents (the 1% of the corpus its training never saw, chosen by the trainer's own document hash),
 * at batch 1 and batch 8, greedy and with the model's sampling defaults, it reports
 * - acceptance per draft position (position j counts only steps that reached it) and the mean number
 *   of draft tokens a verification keeps;
 * - decode tokens/s with and without speculation (same prompts, same number of tokens; prefill
 *   steps excluded; best of --repeats, runs interleaved so machine load hits both alike), and the
 *   measured speedup;
 * - where the time of a step goes: the model is timed inside the runs themselves (a wrapper around
 *   its forward and MTP step), so each step splits into the main forward (plain: the decode step's;
 *   speculative: the verifying one over k + 1 positions), the MTP steps, and the rest (sampling,
 *   drafting, acceptance, rollback, bookkeeping);
 * - from those, c = one MTP step per draft token and v = the verifying forward, both relative to the
 *   plain run's decode forward, and the speedup the acceptance allows: (1 + mean accepted) ÷ (1 + k·c)
 *   — what speculation gives if verifying k + 1 tokens cost what decoding one does (memory-bound
 *   decoding) — and the speedup the forwards allow, (1 + mean accepted) ÷ (v + k·c), what it gives on
 *   this machine if nothing but the forwards took time; and how much of each was reached.
 * Then, for larger shapes (`--cost-configs`, default ../shared/configs/bench_small.json: a 117M
 * DeepSeek-V3 MoE with MTP, random bf16 weights written under --dir as bench:decode does), the same
 * step costs — an MTP step and verifying k + 1 positions, relative to a decode step — and the speedup
 * they predict at the nano model's acceptance: where decoding is bound by reading the weights, the
 * verify cost approaches 1 and speculation pays.
 * `--clock cpu` times with the process's CPU time instead of the wall clock: on a shared machine
 * (other jobs running) wall times swing by several × between runs, CPU time much less; use it with
 * DSTS_THREADS=1, so that time spent is work done.
 *
 * With `--prompts <file.jsonl>` the prompts are instead the questions of a task split (`dsts grpo` /
 * `dsts eval` examples, written with `--template`, default r1-zero) — for the R1 model, its held-out
 * questions (`.tmp/nano-r1/data/test.jsonl`, which scripts/nano-r1/make-data.ts writes).
 *
 * usage: npm run bench:spec [-- --model models/deepseek-ts-nano --corpus .tmp/nano/corpus.jsonl
 *        | --prompts <questions.jsonl> --template r1-zero|chat|plain]
 *        --draft-tokens 1,2,3 --batches 1,8 --tokens 64 --repeats 3 --clock wall|cpu --cost-configs <a.json,b.json> --dir /tmp/dsts-bench --json]
 * The corpus is the one scripts/nano/prepare-corpus.ts writes (npm's chinese-poetry package).
 */
import { existsSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { cpus, loadavg } from 'node:os';
import { BatchDecoder, loadForGeneration, type SamplingParams, SpeculationCounts } from '../src/generate/index.ts';
import { DocumentSplit } from '../src/train/data/split.ts';
import * as T from '../src/tensor/index.ts';
import { Tensor, noGrad } from '../src/tensor/index.ts';
import type { CausalLM, ForwardOptions, ForwardResult, MtpStepResult, SequenceCache } from '../src/model/causal-lm.ts';
import { loadModel } from '../src/model/load.ts';
import { writeRandomCheckpoint } from './lib/random-checkpoint.ts';
import { readJsonl } from '../src/posttrain/data/jsonl.ts';
import { PROMPT_TEMPLATES, renderPrompt, type PromptTemplate } from '../src/posttrain/data/prompts.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const { values: flags } = parseArgs({
  options: {
    model: { type: 'string', default: join(root, 'models/deepseek-ts-nano') },
    corpus: { type: 'string', default: join(root, '.tmp/nano/corpus.jsonl') },
    prompts: { type: 'string' },
    template: { type: 'string', default: 'r1-zero' },
    'draft-tokens': { type: 'string', default: '1,2,3' },
    batches: { type: 'string', default: '1,8' },
    tokens: { type: 'string', default: '64' },
    repeats: { type: 'string', default: '3' },
    clock: { type: 'string', default: 'wall' },
    'cost-configs': { type: 'string', default: join(root, '../shared/configs/bench_small.json') },
    dir: { type: 'string', default: process.env.DSTS_BENCH_DIR ?? '/tmp/dsts-bench' },
    json: { type: 'boolean', default: false },
  },
});
const ks = flags['draft-tokens'].split(',').map(Number);
const batches = flags.batches.split(',').map(Number);
const TOKENS = Number(flags.tokens);
const REPEATS = Number(flags.repeats);
if (flags.clock !== 'wall' && flags.clock !== 'cpu') throw new Error(`--clock must be wall or cpu, got ${flags.clock}`);
/** Seconds on the chosen clock. */
const clock =
  flags.clock === 'cpu'
    ? () => {
        const u = process.cpuUsage();
        return (u.user + u.system) / 1e6;
      }
    : () => performance.now() / 1000;

if (flags.prompts !== undefined && !existsSync(flags.prompts)) {
  console.error(`bench:spec: no prompts file at ${flags.prompts}`);
  process.exit(1);
}
if (flags.prompts === undefined && !existsSync(flags.corpus)) {
  console.error(`bench:spec: no corpus at ${flags.corpus}: run \`node --import tsx scripts/nano/prepare-corpus.ts\` first`);
  process.exit(1);
}
if (!(PROMPT_TEMPLATES as readonly string[]).includes(flags.template)) {
  console.error(`bench:spec: --template must be one of ${PROMPT_TEMPLATES.join(', ')}`);
  process.exit(1);
}

const setup = loadForGeneration(flags.model);
const model = setup.model;
const tokenizer = setup.tokenizer!;

/** Held-out documents' openings (title and author lines), as the trainer split them. */
function heldOutPrompts(n: number): number[][] {
  const valFraction = (JSON.parse(readFileSync(join(flags.model, 'train.json'), 'utf8')) as { data: { valFraction: number } }).data
    .valFraction;
  const split = new DocumentSplit(valFraction);
  const key = basename(flags.corpus);
  const out: number[][] = [];
  const lines = readFileSync(flags.corpus, 'utf8').split('\n');
  for (let doc = 0; doc < lines.length && out.length < n; doc++) {
    if (!lines[doc] || !split.isValidation(key, doc)) continue;
    const text = (JSON.parse(lines[doc]!) as { text: string }).text;
    const head = text.split('\n').slice(0, 2).join('\n') + '\n';
    out.push(tokenizer.encode(head));
  }
  return out;
}

/**
 * The model with its forwards timed on the bench's clock, so a run splits its decode-step time into
 * main-model forwards (a decode step's, or the verifying one), MTP steps, and everything else.
 */
class TimedModel {
  /** Seconds in this step's main forwards and MTP steps (the bench adds them up for decode steps only). */
  forwardSeconds = 0;
  mtpSeconds = 0;

  constructor(readonly m: CausalLM) {}

  get vocabSize(): number {
    return this.m.vocabSize;
  }
  get mtpDepth(): number {
    return this.m.mtpDepth;
  }
  get layers(): CausalLM['layers'] {
    return this.m.layers;
  }
  newCache(capacity: number): SequenceCache {
    return this.m.newCache(capacity);
  }
  newMtpCache(capacity: number): SequenceCache {
    return this.m.newMtpCache(capacity);
  }
  forward(ids: Tensor, opts: ForwardOptions): ForwardResult {
    const t = clock();
    const r = this.m.forward(ids, opts);
    this.forwardSeconds += clock() - t;
    return r;
  }
  mtpStep(depth: number, previous: Tensor, nextIds: Tensor, caches: SequenceCache[], at?: readonly number[]): MtpStepResult {
    const t = clock();
    const r = this.m.mtpStep(depth, previous, nextIds, caches, at);
    this.mtpSeconds += clock() - t;
    return r;
  }
}
const timed = new TimedModel(model);

interface Run {
  /** Decode steps (prefill steps excluded) and their seconds: in all, in main forwards, in MTP steps. */
  steps: number;
  seconds: number;
  forwardSeconds: number;
  mtpSeconds: number;
  tokens: number;
  counts: SpeculationCounts | null;
  outputs: number[][];
}

/** Decodes `prompts` together (batch = their number), timing the decode steps only. */
function decode(prompts: number[][], sampling: SamplingParams, k: number): Run {
  const decoder = new BatchDecoder(timed, {
    maxContext: setup.config.maxPositionEmbeddings,
    speculative: k > 0 ? { method: 'mtp', draftTokens: k } : undefined,
  });
  const seqs = prompts.map((prompt, i) =>
    decoder.add({ prompt, maxTokens: TOKENS, sampling: { ...sampling, seed: 1 + i }, stopTokenIds: [] }),
  );
  const run: Run = { steps: 0, seconds: 0, forwardSeconds: 0, mtpSeconds: 0, tokens: 0, counts: null, outputs: [] };
  while (!decoder.idle) {
    timed.forwardSeconds = timed.mtpSeconds = 0;
    const t = clock();
    const r = decoder.step();
    if (r.prefilled === 0) {
      run.seconds += clock() - t;
      run.forwardSeconds += timed.forwardSeconds;
      run.mtpSeconds += timed.mtpSeconds;
      run.steps++;
      run.tokens += r.events.length;
    }
    const failed = r.finished.find((s) => s.failed);
    if (failed) throw failed.error;
  }
  return { ...run, counts: decoder.speculator?.total ?? null, outputs: seqs.map((s) => s.generated) };
}

/** Seconds per call of `fn`, best of a few rounds after an untimed one (JIT warm-up: the first calls cost 2–3×). */
function timeIt(fn: () => void, calls = 20): number {
  for (let i = 0; i < calls; i++) fn();
  let best = Infinity;
  for (let round = 0; round < 5; round++) {
    const t = clock();
    for (let i = 0; i < calls; i++) fn();
    best = Math.min(best, (clock() - t) / calls);
  }
  return best;
}

/**
 * Costs relative to one main decode step ([B, 1], last logits), at batch B with caches of `context`
 * tokens: one MTP step, and verifying forwards of k + 1 positions (all logits) for each k.
 */
function stepCosts(m: CausalLM, B: number, context: number): { mtp: number; verify: Map<number, number> } {
  return noGrad(() => {
    const main = Array.from({ length: B }, () => m.newCache(context + 64));
    const mtp = Array.from({ length: B }, () => m.newMtpCache(context + 64));
    const ids = Tensor.from(
      Array.from({ length: B * context }, (_, i) => 100 + (i % 900)),
      [B, context],
      'i32',
    );
    const { final } = m.forward(ids, { caches: main, logits: 'none' });
    m.mtpStep(1, final, ids, mtp);
    // Distinct tokens: equal ones would all route to the same experts, and a verifying forward of
    // k + 1 copies of one token would cost what a decode step does.
    const one = Tensor.from(
      Array.from({ length: B }, (_, b) => 200 + 37 * b),
      [B, 1],
      'i32',
    );
    const D = final.shape[2]!;
    const state = T.contiguous(T.slice(final, 1, context - 1, context));
    const tMain = timeIt(() => {
      m.forward(one, { caches: main, logits: 'last' });
      for (const c of main) for (const l of c) l.truncate(context);
    });
    const tMtp = timeIt(() => {
      m.mtpStep(1, state, one, mtp);
      for (const c of mtp) for (const l of c) l.truncate(context);
    });
    const verify = new Map<number, number>();
    for (const k of ks) {
      const x = Tensor.from(
        Array.from({ length: B * (k + 1) }, (_, i) => 200 + 37 * i),
        [B, k + 1],
        'i32',
      );
      const t = timeIt(() => {
        m.forward(x, { caches: main, logits: 'all' });
        for (const c of main) for (const l of c) l.truncate(context);
      });
      verify.set(k, t / tMain);
    }
    return { mtp: tMtp / tMain, verify };
  });
}

const SAMPLINGS: { name: string; sampling: SamplingParams }[] = [
  { name: 'greedy', sampling: { temperature: 0 } },
  { name: 'sampled (model defaults)', sampling: setup.defaults.sampling },
];

interface Row {
  batch: number;
  sampling: string;
  k: number;
  acceptance: number[];
  meanAccepted: number;
  plainTokS: number;
  specTokS: number;
  speedup: number;
  /** ms per decode step, plain: the forward and the rest (sampling, bookkeeping). */
  plainMs: { forward: number; other: number };
  /** ms per speculative step: the verifying forward, the MTP steps, the rest (drafting, acceptance, rollback). */
  specMs: { verify: number; mtp: number; other: number };
  /** In situ: one MTP step (per draft token) and the verifying forward, relative to the plain decode forward. */
  draftCost: number;
  verifyCost: number;
  allowed: number;
  reached: number;
  /** (1 + accepted/step) ÷ (verify cost + k × MTP step cost): the speedup if only forwards cost time, and the part of it reached. */
  forwardsAllow: number;
  forwardsReached: number;
  identical: boolean | null;
}

const rows: Row[] = [];
/** The first `n` questions of a task split, rendered with --template. */
function taskPrompts(file: string, n: number): number[][] {
  return readJsonl([file])
    .slice(0, n)
    .map((ex) => renderPrompt(ex, tokenizer, flags.template as PromptTemplate).ids);
}

const promptPool =
  flags.prompts !== undefined ? taskPrompts(flags.prompts, Math.max(...batches) * 4) : heldOutPrompts(Math.max(...batches) * 4);
for (const B of batches) {
  const prompts = promptPool.slice(0, B);
  for (const { name, sampling } of SAMPLINGS) {
    for (const k of ks) {
      let plain: Run | null = null;
      let spec: Run | null = null;
      // Warm-up of both paths (JIT, first-call costs, page cache): the first runs cost 2–3×.
      decode(prompts, sampling, 0);
      decode(prompts, sampling, k);
      for (let r = 0; r < REPEATS; r++) {
        const p = decode(prompts, sampling, 0);
        const s = decode(prompts, sampling, k);
        if (!plain || p.seconds < plain.seconds) plain = p;
        if (!spec || s.seconds < spec.seconds) spec = s;
      }
      const counts = spec!.counts!;
      const plainTokS = plain!.tokens / plain!.seconds;
      const specTokS = spec!.tokens / spec!.seconds;
      // Costs in situ: what the runs' own forwards took, relative to the plain run's decode forward.
      const plainForward = plain!.forwardSeconds / plain!.steps;
      const c = spec!.mtpSeconds / spec!.steps / k / plainForward;
      const v = spec!.forwardSeconds / spec!.steps / plainForward;
      const allowed = (1 + counts.meanAccepted) / (1 + k * c);
      const forwardsAllow = (1 + counts.meanAccepted) / (v + k * c);
      const ms = (x: number, run: Run) => (1000 * x) / run.steps;
      rows.push({
        batch: B,
        sampling: name,
        k,
        acceptance: counts.proposedAt.map((_, j) => counts.acceptanceAt(j)),
        meanAccepted: counts.meanAccepted,
        plainTokS,
        specTokS,
        speedup: specTokS / plainTokS,
        plainMs: { forward: ms(plain!.forwardSeconds, plain!), other: ms(plain!.seconds - plain!.forwardSeconds, plain!) },
        specMs: {
          verify: ms(spec!.forwardSeconds, spec!),
          mtp: ms(spec!.mtpSeconds, spec!),
          other: ms(spec!.seconds - spec!.forwardSeconds - spec!.mtpSeconds, spec!),
        },
        draftCost: c,
        verifyCost: v,
        allowed,
        reached: specTokS / plainTokS / allowed,
        forwardsAllow,
        forwardsReached: specTokS / plainTokS / forwardsAllow,
        identical: sampling.temperature === 0 ? JSON.stringify(plain!.outputs) === JSON.stringify(spec!.outputs) : null,
      });
      if (!flags.json) console.error(`done: batch ${B}, ${name}, k=${k}`);
    }
  }
}

/** Step costs of larger shapes, and the speedup they predict at the acceptance measured above. */
interface CostRow {
  config: string;
  batch: number;
  k: number;
  draftCost: number;
  verifyCost: number;
  /** (1 + accepted/step) ÷ (verify cost + k × MTP step cost), at nano's sampled acceptance for this k and batch. */
  predicted: number;
}
const costRows: CostRow[] = [];
for (const configPath of flags['cost-configs'].split(',').filter((p) => p.length > 0)) {
  if (!existsSync(configPath)) {
    console.error(`bench:spec: no config at ${configPath}; skipping its step costs`);
    continue;
  }
  const name = basename(configPath, '.json');
  const dir = writeRandomCheckpoint(configPath, join(flags.dir, `${name}-bf16`), 'bf16');
  const big = loadModel(dir).model;
  if (big.mtpDepth === 0) {
    console.error(`bench:spec: ${name} has no MTP module; skipping`);
    continue;
  }
  for (const B of batches) {
    const costs = stepCosts(big, B, 24);
    for (const k of ks) {
      const nano = rows.find((r) => r.batch === B && r.k === k && r.sampling !== 'greedy');
      const v = costs.verify.get(k)!;
      costRows.push({
        config: name,
        batch: B,
        k,
        draftCost: costs.mtp,
        verifyCost: v,
        predicted: nano ? (1 + nano.meanAccepted) / (v + k * costs.mtp) : NaN,
      });
    }
  }
}

if (flags.json) {
  console.log(
    JSON.stringify(
      { model: flags.model, clock: flags.clock, threads: cpus().length, loadavg: loadavg(), tokens: TOKENS, rows, costRows },
      null,
      2,
    ),
  );
} else {
  const pct = (x: number) => `${(100 * x).toFixed(0)}%`;
  console.log(
    `\n${basename(flags.model)}, held-out prompts, ${TOKENS} tokens per sequence, best of ${REPEATS}; ` +
      `${flags.clock === 'cpu' ? 'CPU-time' : 'wall-clock'} tokens/s; ${cpus().length} cores, load average ${loadavg()[0]!.toFixed(1)}\n`,
  );
  console.log(
    '| batch | sampling | k | acceptance per position | accepted / step | tok/s plain | tok/s spec | speedup | MTP step cost | verify cost | allowed | reached | forwards allow | reached |',
  );
  console.log('| ---: | --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const r of rows) {
    console.log(
      `| ${r.batch} | ${r.sampling} | ${r.k} | ${r.acceptance.map(pct).join(' / ')} | ${r.meanAccepted.toFixed(2)} | ` +
        `${r.plainTokS.toFixed(1)} | ${r.specTokS.toFixed(1)} | ${r.speedup.toFixed(2)}× | ${r.draftCost.toFixed(2)} | ${r.verifyCost.toFixed(2)} | ` +
        `${r.allowed.toFixed(2)}× | ${pct(r.reached)} | ${r.forwardsAllow.toFixed(2)}× | ${pct(r.forwardsReached)}${r.identical === false ? ' (greedy outputs DIFFER)' : ''} |`,
    );
  }
  console.log(
    "\ncosts are measured in the runs themselves, relative to the plain run's decode forward at that batch: MTP step cost per draft token, " +
      'verify cost of the forward over k + 1 positions. allowed = (1 + accepted/step) ÷ (1 + k × MTP step cost), the speedup if verifying ' +
      'k + 1 tokens cost one decode step (memory-bound decoding); forwards allow = (1 + accepted/step) ÷ (verify cost + k × MTP step cost), ' +
      'the speedup if nothing but the forwards took time; reached = speedup ÷ each.',
  );
  console.log("\nwhere a step's time goes, ms per step (plain: one token per sequence; speculative: 1 + accepted/step):\n");
  console.log('| batch | sampling | k | plain: forward | plain: other | spec: verify forward | spec: MTP steps | spec: other |');
  console.log('| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const r of rows) {
    const f = (x: number) => x.toFixed(3);
    console.log(
      `| ${r.batch} | ${r.sampling} | ${r.k} | ${f(r.plainMs.forward)} | ${f(r.plainMs.other)} | ${f(r.specMs.verify)} | ${f(r.specMs.mtp)} | ${f(r.specMs.other)} |`,
    );
  }
  if (costRows.length > 0) {
    console.log('\nstep costs of larger shapes (random weights), and the speedup they predict at the acceptance above (sampled):\n');
    console.log('| model | batch | k | MTP step cost | verify cost | predicted speedup |');
    console.log('| --- | ---: | ---: | ---: | ---: | ---: |');
    for (const r of costRows) {
      console.log(
        `| ${r.config} | ${r.batch} | ${r.k} | ${r.draftCost.toFixed(2)} | ${r.verifyCost.toFixed(2)} | ${r.predicted.toFixed(2)}× |`,
      );
    }
  }
}
