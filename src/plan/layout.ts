/**
 * A parallel layout for training: pipeline (PP), tensor (TP), data (DP, with a ZeRO stage) and expert
 * (EP) parallelism, the batch it runs, and the precision and recomputation choices that set memory.
 * World size is PP × TP × DP; the EP group is carved out of the TP × DP ranks of a stage (as in
 * Megatron-LM and DeepSeek-V3), so EP divides TP × DP, and each expert is replicated over
 * TP·DP/EP ranks ("expert data parallelism").
 */
import { PlanError } from './errors.ts';
import type { ComputeDtype } from './gpus.ts';

export const SCHEDULES = ['1f1b', 'zb1p', 'dualpipe'] as const;
export type ScheduleName = (typeof SCHEDULES)[number];
export const RECOMPUTE = ['none', 'selective', 'full'] as const;
export type Recompute = (typeof RECOMPUTE)[number];

export interface Layout {
  pp: number;
  tp: number;
  dp: number;
  ep: number;
  /** ZeRO stage over the data-parallel group: 1 shards optimizer states, 2 also gradients, 3 also weights. */
  zero: 0 | 1 | 2 | 3;
  /** Sequences per micro-batch (per data-parallel rank). */
  microBatch: number;
  /** Sequences per optimizer step, all ranks together. */
  globalBatch: number;
  seqLen: number;
  schedule: ScheduleName;
  /** 'selective': DeepSeek-V3's choice (RMSNorms, MLA up-projections and SwiGLU outputs recomputed). */
  recompute: Recompute;
  /** GEMM precision: FP8 also caches the linear layers' inputs in FP8 (DeepSeek-V3 §3.3). */
  compute: ComputeDtype;
  /** AdamW moments in f32 or bf16 (DeepSeek-V3 keeps them in bf16). */
  moments: 'f32' | 'bf16';
}

export const worldSize = (l: Layout) => l.pp * l.tp * l.dp;

/** Micro-batches each pipeline runs per optimizer step. */
export function microBatches(l: Layout): number {
  return l.globalBatch / (l.dp * l.microBatch);
}

/** Checks that the layout is possible for a model with `layers` main layers and `experts` routed experts. */
export function checkLayout(l: Layout, layers: number, experts: number): void {
  for (const k of ['pp', 'tp', 'dp', 'ep', 'microBatch', 'globalBatch', 'seqLen'] as const) {
    if (!(Number.isInteger(l[k]) && l[k] >= 1)) throw new PlanError(`layout: ${k} must be a positive integer, got ${l[k]}`);
  }
  if (l.pp > layers) throw new PlanError(`layout: ${l.pp} pipeline stages for ${layers} layers`);
  if ((l.tp * l.dp) % l.ep !== 0) throw new PlanError(`layout: ep (${l.ep}) must divide tp × dp (${l.tp * l.dp})`);
  if (experts > 0 && experts % l.ep !== 0) throw new PlanError(`layout: ep (${l.ep}) must divide the ${experts} routed experts`);
  if (experts === 0 && l.ep !== 1) throw new PlanError('layout: ep > 1 needs a mixture-of-experts model');
  if (l.globalBatch % (l.dp * l.microBatch) !== 0)
    throw new PlanError(`layout: the global batch (${l.globalBatch}) must be a multiple of dp × micro-batch (${l.dp * l.microBatch})`);
  const m = microBatches(l);
  if (l.schedule === 'dualpipe') {
    if (l.pp % 2 !== 0) throw new PlanError('layout: DualPipe needs an even number of pipeline stages');
    if (m % 2 !== 0 || m < 2 * l.pp)
      throw new PlanError(`layout: DualPipe needs an even number of micro-batches ≥ 2·pp (${2 * l.pp}), got ${m}`);
  } else if (m < l.pp) throw new PlanError(`layout: ${m} micro-batches per step for ${l.pp} stages (need ≥ pp)`);
}

/** The main layers each pipeline stage holds: contiguous, as even as possible (earlier stages take the remainder). */
export function stageLayers(layers: number, pp: number): number[][] {
  const out: number[][] = [];
  let at = 0;
  for (let s = 0; s < pp; s++) {
    const n = Math.floor(layers / pp) + (s < layers % pp ? 1 : 0);
    out.push(Array.from({ length: n }, (_, i) => at + i));
    at += n;
  }
  return out;
}
