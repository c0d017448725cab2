/**
 * `dsts sft`: supervised fine-tuning (R1's cold start and its stage-3 SFT). One step:
 *
 *   for each of gradAccum micro-batches (rows of packed, masked examples — pack.ts):
 *     forward under the batch's attention layout → mean cross-entropy over the trained (assistant)
 *     tokens → backward, weighted 1/gradAccum;
 *   clip + AdamW at the scheduled rate (run/updates.ts, i.e. pre-training's optimizer step).
 *
 * Checkpoints, metrics (metrics.jsonl, the pre-training record shape, so `dsts plot` draws SFT runs
 * too), progress and exact resume are pre-training's as well. MTP and the balance terms are left out
 * (a fine-tune trains the next-token head; DeepSeek-V3's router biases stay as pre-training left them).
 */
import { join } from 'node:path';
import * as T from '../../tensor/index.ts';
import { Tensor } from '../../tensor/index.ts';
import type { CausalLM } from '../../model/causal-lm.ts';
import { MetricsLog, type EvalMetrics, type StepMetrics } from '../../train/metrics.ts';
import { METRICS_FILE, writeRunJson } from '../../train/run-dir.ts';
import { findEos } from '../../train/data/encoder.ts';
import type { ProgressInfo } from '../../train/progress.ts';
import { PosttrainError } from '../errors.ts';
import { readJsonl } from '../data/jsonl.ts';
import { savePosttrain, restoreUpdater } from '../run/checkpoint.ts';
import { runLoop, type LoopResult } from '../run/loop.ts';
import { openRun } from '../run/setup.ts';
import { PolicyUpdater } from '../run/updates.ts';
import { sftConfigJson, type SftConfig } from './config.ts';
import { SftStream, type SftBatch, type StreamPosition } from './pack.ts';
import { renderSft } from './render.ts';

export interface SftOptions {
  config: SftConfig;
  /** Continue from this checkpoint (or the latest of this run folder). */
  resume?: string;
  force?: boolean;
  signal?: AbortSignal;
  log?: (line: string) => void;
  progress?: (p: ProgressInfo) => void;
}

export interface SftResult extends LoopResult {
  runDir: string;
}

/** Forward + masked CE of one batch (differentiable); null when nothing in it is trained. */
function batchLoss(model: CausalLM, b: SftBatch): Tensor | null {
  if (b.trained === 0) return null;
  const { logits } = T.withAttentionLayout(b.layout, () => model.forward(b.ids));
  const [R, L, V] = logits!.shape as [number, number, number];
  return T.crossEntropy(T.reshape(logits!, [R * L, V]), b.targets);
}

/** The padding id: the tokenizer's EOS (never a target), else 0. */
function eosId(tok: Parameters<typeof renderSft>[1]): number {
  try {
    return findEos(tok, null).id;
  } catch {
    return 0;
  }
}

export async function sft(opts: SftOptions): Promise<SftResult> {
  const cfg = opts.config;
  const log = opts.log ?? (() => {});
  // Read the data before touching the output folder, so a typo leaves no debris.
  const trainExamples = readJsonl(cfg.data.train);
  const evalExamples = cfg.eval.interval > 0 && cfg.data.validation.length > 0 ? readJsonl(cfg.data.validation) : [];
  const { policy, resumed } = openRun(cfg, 'sft', opts);
  const tok = policy.tokenizer.tokenizer;
  const maxPos = policy.config.maxPositionEmbeddings;
  const seqLen = cfg.seqLen ?? Math.min(1024, maxPos);
  if (seqLen > maxPos) throw new PosttrainError(`seqLen ${seqLen} exceeds the model's max_position_embeddings (${maxPos})`);
  const render = (ex: Parameters<typeof renderSft>[0]) => renderSft(ex, tok, cfg.template);
  const train = trainExamples.flatMap(render);
  const cut = train.filter((s) => s.ids.length > seqLen).length;
  if (cut > 0) log(`warning: ${cut} of ${train.length} sequences are longer than seqLen ${seqLen} and are cut to it`);
  const padId = eosId(tok);
  const position = resumed ? (resumed.state.loader as unknown as StreamPosition) : undefined;
  const stream = new SftStream(train, { seqLen, packing: cfg.packing, seed: cfg.seed, padId }, position);
  const evalSeqs = evalExamples.flatMap(render);

  const updater = new PolicyUpdater(policy.params, cfg.optimizer, cfg.schedule, cfg.steps);
  if (resumed) restoreUpdater(updater, resumed);
  let step = resumed?.state.step ?? 0;
  let tokens = resumed?.state.tokens ?? 0;
  let elapsed = resumed?.state.elapsedSeconds ?? 0;
  const metrics = new MetricsLog(join(cfg.out, METRICS_FILE), resumed ? step : undefined);
  const runJson = sftConfigJson(cfg);
  writeRunJson(cfg.out, runJson);
  const n = policy.params.reduce((a, p) => a + p.tensor.size, 0);
  log(
    `${resumed ? `resuming ${resumed.checkpoint} at step ${step}` : `sft from ${cfg.model}`}: ${policy.config.modelType}, ${(n / 1e6).toFixed(2)}M parameters, ` +
      `${train.length} sequences, ${cfg.batchSize}×${cfg.gradAccum} rows of ${cfg.packing ? `${seqLen} packed` : `up to ${seqLen}`} tokens per step → ${cfg.out}`,
  );

  const evaluate = (): EvalMetrics | null => {
    if (evalSeqs.length === 0) return null;
    const s = new SftStream(evalSeqs, { seqLen, packing: cfg.packing, seed: cfg.seed, padId });
    let sum = 0;
    let count = 0;
    T.noGrad(() => {
      for (let i = 0; i < cfg.eval.batches; i++) {
        const b = s.next(cfg.batchSize);
        const l = batchLoss(policy.model, b);
        if (l) {
          sum += l.item() * b.trained;
          count += b.trained;
        }
        if (s.epoch > 0) break; // the whole validation set has been seen
      }
    });
    const loss = sum / Math.max(1, count);
    return { type: 'eval', step, loss, ppl: Math.exp(loss), tokens: count };
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
          { step, updates: updater.updates, tokens, elapsed, position: stream.position() as unknown as Record<string, unknown> },
          cfg.checkpoint,
        ),
      step: async () => {
        const t0 = performance.now();
        const weight = Tensor.from([1 / cfg.gradAccum], [], 'f32');
        let loss = 0;
        let stepTokens = 0;
        let trained = 0;
        for (let m = 0; m < cfg.gradAccum; m++) {
          const b = stream.next(cfg.batchSize);
          stepTokens += b.tokens;
          trained += b.trained;
          const l = batchLoss(policy.model, b);
          if (!l) continue;
          loss += l.item() / cfg.gradAccum;
          T.backward(l, weight);
        }
        const tOpt = performance.now();
        const u = updater.update();
        step++;
        tokens += stepTokens;
        const seconds = (performance.now() - t0) / 1000;
        elapsed += seconds;
        const rec: StepMetrics & { trainedTokens: number; epoch: number } = {
          type: 'train',
          step,
          loss,
          ce: loss,
          mtp: [],
          balance: 0,
          lr: u.lr,
          gradNorm: u.gradNorm,
          tokens,
          tokensPerSec: stepTokens / seconds,
          elapsed,
          load: [],
          ms: { data: 0, compute: Math.round(tOpt - t0), optimizer: Math.round(performance.now() - tOpt) },
          trainedTokens: trained,
          epoch: stream.epoch,
        };
        if (u.skipped) {
          rec.skipped = true;
          log(`step ${step}: gradient norm is ${u.gradNorm}; update skipped`);
        }
        metrics.write(rec);
        return { loss, lr: u.lr, tokensPerSec: rec.tokensPerSec };
      },
      after: (s) => {
        if (cfg.eval.interval > 0 && (s % cfg.eval.interval === 0 || s === cfg.steps)) {
          const e = evaluate();
          if (e) {
            metrics.write(e);
            log(`step ${s}: eval loss ${e.loss.toFixed(4)} (${e.tokens} assistant tokens)`);
          }
        }
      },
    });
    return { ...result, runDir: cfg.out };
  } finally {
    metrics.close();
  }
}
