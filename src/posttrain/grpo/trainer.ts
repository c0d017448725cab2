/**
 * `dsts grpo`: Group Relative Policy Optimization (DeepSeekMath; DeepSeek-R1's RL stage), on the
 * pre-training machinery (run/: AdamW, schedule, clipping, checkpoints, exact resume, metrics). One
 * step, as TRL's GRPOTrainer:
 *
 *   1. take `batchSize` prompts; sample `num_generations` completions of each through the batched
 *      decoder and its caches (rollout.ts) at temperature / top_p / top_k;
 *   2. score every completion with every reward function; total = weighted sum; advantages per
 *      group (objective.ts);
 *   3. when num_iterations > 1, keep the sampling policy's log-probs (π_old); when beta > 0, the
 *      frozen reference's (π_ref);
 *   4. num_iterations times: forward + GRPO loss + backward over micro-batches of completions, then
 *      one optimizer update.
 *
 * Logged per step (metrics.jsonl, `type: "grpo"`; `dsts plot` draws them): reward mean and std, per
 * function too, accuracy, completion length (mean, min, max), KL, clip fractions, entropy, rollout
 * and training tokens/s. One sampled completion per step goes to samples.jsonl, to watch the
 * reasoning change.
 */
import { closeSync, existsSync, openSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import * as T from '../../tensor/index.ts';
import { Tensor } from '../../tensor/index.ts';
import type { CausalLM } from '../../model/causal-lm.ts';
import { MetricsLog, type MetricsRecord } from '../../train/metrics.ts';
import { METRICS_FILE, writeRunJson } from '../../train/run-dir.ts';
import type { ProgressInfo } from '../../train/progress.ts';
import { readJsonl, permutation, type Example } from '../data/jsonl.ts';
import { renderPrompt } from '../data/prompts.ts';
import { loadRewards } from '../rewards/load.ts';
import { scoreCompletions } from '../rewards/score.ts';
import { rewardContext } from '../rewards/types.ts';
import { completionLogps, type CompletionBatch } from '../completion-logps.ts';
import { mixSeed, rollout, stopIds } from '../rollout.ts';
import { loadReference } from '../run/policy.ts';
import { restoreUpdater, savePosttrain } from '../run/checkpoint.ts';
import { runLoop, type LoopResult } from '../run/loop.ts';
import { openRun } from '../run/setup.ts';
import { PolicyUpdater } from '../run/updates.ts';
import { weightsChanged } from '../run/weights-changed.ts';
import { grpoConfigJson, type GrpoConfig } from './config.ts';
import { groupAdvantages, grpoLoss } from './objective.ts';
import { meanStd, type GrpoMetrics } from './metrics.ts';

export type { GrpoMetrics } from './metrics.ts';

export interface GrpoRunOptions {
  config: GrpoConfig;
  resume?: string;
  force?: boolean;
  signal?: AbortSignal;
  log?: (line: string) => void;
  progress?: (p: ProgressInfo) => void;
  /** After every step, with its metrics. */
  onStep?: (m: GrpoMetrics) => void;
}

export interface GrpoResult extends LoopResult {
  runDir: string;
}

/**
 * samples.jsonl, opened for appending: a new run starts it empty; a resumed one keeps the samples of
 * the steps its checkpoint covers (those logged after it are about to be redone).
 */
function openSamples(path: string, keepUpTo: number): number {
  const kept =
    keepUpTo > 0 && existsSync(path)
      ? readFileSync(path, 'utf8')
          .split('\n')
          .filter((l) => {
            try {
              return l !== '' && (JSON.parse(l) as { step: number }).step <= keepUpTo;
            } catch {
              return false;
            }
          })
      : [];
  writeFileSync(path, kept.map((l) => l + '\n').join(''));
  return openSync(path, 'a');
}

/** Log-probs of `batch` rows [from, to) without a graph, as a tensor [rows, C]. */
function frozenLogps(model: CausalLM, batch: CompletionBatch, temperature: number): Tensor {
  return T.noGrad(() => completionLogps(model, batch, temperature).logps);
}

function sliceBatch(b: CompletionBatch, from: number, to: number): CompletionBatch {
  return { ...b, prompts: b.prompts.slice(from, to), completions: b.completions.slice(from, to) };
}

export async function grpo(opts: GrpoRunOptions): Promise<GrpoResult> {
  const cfg = opts.config;
  const g = cfg.grpo;
  const log = opts.log ?? (() => {});
  const examples = readJsonl(cfg.data.train);
  const rewards = await loadRewards(cfg.rewards);
  const { policy, resumed } = openRun(cfg, 'grpo', opts);
  const tok = policy.tokenizer.tokenizer;
  const model = policy.model;
  const reference = g.beta > 0 ? loadReference(cfg.model) : null;
  const stops = stopIds(tok, policy.config.eosTokenId, model.vocabSize);
  const G = g.numGenerations;
  const rowsPerStep = cfg.batchSize * G;
  const micro = cfg.microBatchSize > 0 ? Math.min(cfg.microBatchSize, rowsPerStep) : rowsPerStep;

  const updater = new PolicyUpdater(policy.params, cfg.optimizer, cfg.schedule, cfg.steps * g.numIterations);
  if (resumed) restoreUpdater(updater, resumed);
  let step = resumed?.state.step ?? 0;
  let tokens = resumed?.state.tokens ?? 0;
  let elapsed = resumed?.state.elapsedSeconds ?? 0;
  let epoch = Number(resumed?.state.loader.epoch ?? 0);
  let cursor = Number(resumed?.state.loader.cursor ?? 0);
  let order = permutation(examples.length, cfg.seed + epoch);
  const nextExamples = (n: number): Example[] =>
    Array.from({ length: n }, () => {
      if (cursor >= order.length) {
        epoch++;
        cursor = 0;
        order = permutation(examples.length, cfg.seed + epoch);
      }
      return examples[order[cursor++]!]!;
    });

  const metrics = new MetricsLog(join(cfg.out, METRICS_FILE), resumed ? step : undefined);
  const samples = openSamples(join(cfg.out, 'samples.jsonl'), resumed ? step : 0);
  const runJson = grpoConfigJson(cfg);
  writeRunJson(cfg.out, runJson);
  log(
    `${resumed ? `resuming ${resumed.checkpoint} at step ${step}` : `grpo from ${cfg.model}`}: ${policy.config.modelType}, ${examples.length} prompts, ` +
      `${cfg.batchSize} prompts × ${G} generations per step, loss ${g.lossType}, β ${g.beta}, rewards ${rewards.map((r) => `${r.name}×${r.weight}`).join(' + ')} → ${cfg.out}`,
  );

  const oneStep = async (): Promise<GrpoMetrics> => {
    const t0 = performance.now();
    const batchExamples = nextExamples(cfg.batchSize);
    const prompts = batchExamples.map((ex) => {
      const p = renderPrompt(ex, tok, cfg.promptTemplate, cfg.system ?? undefined);
      // As TRL: an over-long prompt keeps its last max_prompt_length tokens.
      return p.ids.length > g.maxPromptLength
        ? { text: tok.decode(p.ids.slice(-g.maxPromptLength)), ids: p.ids.slice(-g.maxPromptLength) }
        : p;
    });
    const roll = rollout(
      model,
      tok,
      prompts.map((p) => p.ids),
      {
        n: G,
        sampling: { temperature: g.temperature, topP: g.topP, topK: g.topK },
        maxTokens: g.maxCompletionLength,
        stopTokenIds: stops,
        seed: mixSeed(cfg.seed, step),
        maxContext: policy.config.maxPositionEmbeddings,
      },
    );
    const flat = roll.groups.flat();
    const items = flat.map((c, i) => {
      const p = Math.floor(i / G);
      return { ...rewardContext(prompts[p]!.text, c.text, batchExamples[p]!.data), line: batchExamples[p]!.line };
    });
    const scored = await scoreCompletions(rewards, items);
    const advantages = groupAdvantages(scored.total, G, g.scaleRewards);

    const batch: CompletionBatch = {
      prompts: flat.map((_, i) => prompts[Math.floor(i / G)]!.ids),
      completions: flat.map((c) => c.ids),
      width: Math.max(1, ...flat.map((c) => c.ids.length)),
      padId: stops[0] ?? 0,
    };
    // mask_truncated_completions (TRL): a completion cut by max_completion_length is left out of the loss.
    const trained = flat.map((c) => !(g.maskTruncatedCompletions && c.finishReason === 'length'));
    const stepTokens = flat.reduce((a, c, i) => a + (trained[i] ? c.ids.length : 0), 0);
    const slices: [number, number][] = [];
    for (let s = 0; s < rowsPerStep; s += micro) slices.push([s, Math.min(rowsPerStep, s + micro)]);
    // π_old: the sampling policy, kept for every iteration (with one iteration it is π_θ detached).
    const old = g.numIterations > 1 ? slices.map(([a, b]) => frozenLogps(model, sliceBatch(batch, a, b), g.temperature)) : null;
    const ref = reference ? slices.map(([a, b]) => frozenLogps(reference, sliceBatch(batch, a, b), g.temperature)) : null;

    const tTrain = performance.now();
    let loss = 0;
    let kl = 0;
    let clipLow = 0;
    let clipHigh = 0;
    let entropy = 0;
    let lr = 0;
    let gradNorm = 0;
    for (let it = 0; it < g.numIterations; it++) {
      for (const [k, [a, b]] of slices.entries()) {
        const part = sliceBatch(batch, a, b);
        const { logps, mask, entropy: ent } = completionLogps(model, part, g.temperature);
        for (let i = a; i < b; i++) if (!trained[i]) mask.fill(0, (i - a) * part.width, (i - a + 1) * part.width);
        const r = grpoLoss({
          logps,
          oldLogps: old?.[k] ?? null,
          refLogps: ref?.[k] ?? null,
          advantages: advantages.subarray(a, b),
          mask,
          beta: g.beta,
          epsilonLow: g.epsilon,
          epsilonHigh: g.epsilonHigh,
          lossType: g.lossType,
          maxCompletionLength: g.maxCompletionLength,
          stepTokens,
        });
        // dapo already divides by the step's tokens; the others average their micro-batch losses.
        const weight = g.lossType === 'dapo' ? 1 : (b - a) / rowsPerStep;
        T.backward(r.loss, Tensor.from([weight], [], 'f32'));
        const share = mask.reduce((x, v) => x + v, 0) / Math.max(1, stepTokens) / g.numIterations;
        loss += (r.loss.item() * weight) / g.numIterations;
        kl += r.klMean * share;
        clipLow += r.clipLow * share;
        clipHigh += r.clipHigh * share;
        if (it === 0) for (let i = 0; i < ent.length; i++) entropy += (ent[i]! * mask[i]!) / Math.max(1, stepTokens);
      }
      const u = updater.update();
      weightsChanged(model);
      lr = u.lr;
      gradNorm = u.gradNorm;
      if (u.skipped) log(`step ${step + 1}: gradient norm is ${u.gradNorm}; update skipped`);
    }
    const tEnd = performance.now();
    const lengths = flat.map((c) => c.ids.length);
    const perFn: GrpoMetrics['rewards'] = {};
    rewards.forEach((r, f) => (perFn[r.name] = meanStd(Array.from(scored.perFunction[f]!))));
    let zeroStd = 0;
    for (let p = 0; p < cfg.batchSize; p++) if (meanStd(Array.from(scored.total.subarray(p * G, (p + 1) * G))).std === 0) zeroStd++;
    const total = meanStd(Array.from(scored.total));
    tokens += stepTokens;
    elapsed += (tEnd - t0) / 1000;
    const m: GrpoMetrics = {
      type: 'grpo',
      step: step + 1,
      loss,
      lr,
      gradNorm,
      reward: total.mean,
      rewardStd: total.std,
      rewards: perFn,
      completionLength: { mean: lengths.reduce((a, b) => a + b, 0) / lengths.length, min: Math.min(...lengths), max: Math.max(...lengths) },
      truncated: flat.filter((c) => c.finishReason === 'length').length / flat.length,
      zeroStdGroups: zeroStd / cfg.batchSize,
      kl,
      clip: { low: clipLow, high: clipHigh, region: clipLow + clipHigh },
      entropy,
      rolloutTokensPerSec: roll.tokens / roll.seconds,
      trainTokensPerSec: ((batch.prompts.reduce((a, p) => a + p.length, 0) + stepTokens) * g.numIterations) / ((tEnd - tTrain) / 1000),
      tokens,
      elapsed,
      epoch,
    };
    if (perFn.accuracy) m.accuracy = perFn.accuracy.mean;
    writeSync(
      samples,
      JSON.stringify({ step: step + 1, prompt: prompts[0]!.text, completion: flat[0]!.text, reward: scored.total[0] }) + '\n',
    );
    return m;
  };

  try {
    const result = await runLoop({
      startStep: step,
      total: cfg.steps,
      interval: cfg.checkpoint.interval,
      signal: opts.signal,
      log,
      progress: opts.progress,
      save: () =>
        savePosttrain(
          cfg.out,
          runJson,
          policy,
          updater,
          { step, updates: updater.updates, tokens, elapsed, position: { epoch, cursor } },
          cfg.checkpoint,
        ),
      step: async () => {
        const m = await oneStep();
        step = m.step;
        metrics.write(m as unknown as MetricsRecord);
        opts.onStep?.(m);
        return { loss: m.loss, lr: m.lr, tokensPerSec: m.trainTokensPerSec };
      },
    });
    return { ...result, runDir: cfg.out };
  } finally {
    metrics.close();
    closeSync(samples);
  }
}
