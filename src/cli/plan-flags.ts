/** The parallel-layout flags `dsts plan` and `dsts export` share, and the Layout they make. */
import type { ModelConfig } from '../io/config.ts';
import { RECOMPUTE, SCHEDULES, type Layout, type RunFacts } from '../plan/index.ts';
import { numberFlag, type Options } from './args.ts';
import { UserError } from './errors.ts';

/** The model, run and GPU flags both commands read, and the layout flags. */
export const layoutOptions = {
  model: { type: 'string' },
  run: { type: 'string' },
  gpu: { type: 'string' },
  gpus: { type: 'string' },
  pp: { type: 'string' },
  tp: { type: 'string' },
  dp: { type: 'string' },
  ep: { type: 'string' },
  zero: { type: 'string' },
  'micro-batch': { type: 'string' },
  'global-batch': { type: 'string' },
  'seq-len': { type: 'string' },
  schedule: { type: 'string' },
  recompute: { type: 'string' },
  precision: { type: 'string' },
  moments: { type: 'string' },
} as const satisfies Options;

export const LAYOUT_USAGE = `  --pp, --tp, --dp, --ep <n>   pipeline, tensor, data, expert parallel sizes (default 1; ep divides tp·dp)
  --zero <0-3>           ZeRO stage over data parallelism (default 1)
  --micro-batch <n>      sequences per micro-batch (default: --run's batchSize, else 1)
  --global-batch <n>     sequences per step (default: --run's, else micro-batch × dp × 2·pp)
  --seq-len <n>          context length (default: --run's, else 4096 or the model's maximum)
  --schedule <s>         1f1b, zb1p or dualpipe (default 1f1b)
  --recompute <r>        none, selective (default; DeepSeek-V3's) or full
  --precision <p>        bf16 or fp8 GEMMs (default: --run's, else bf16)
  --moments <d>          AdamW moments f32 or bf16 (default: --run's, else f32)`;

export function intFlag(v: string | undefined, name: string, fallback: number): number {
  const n = numberFlag(v, name, fallback);
  if (!Number.isInteger(n)) throw new UserError(`--${name} expects an integer, got '${v}'`);
  return n;
}

export function oneOf<T extends string>(v: string | undefined, name: string, allowed: readonly T[], fallback: T): T {
  if (v === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(v)) throw new UserError(`--${name} must be one of ${allowed.join(', ')}, got '${v}'`);
  return v as T;
}

type LayoutValues = { [K in keyof typeof layoutOptions]?: string };

/** The layout the flags describe, with a run config's batch, length and precision as defaults. */
export function layoutFromFlags(v: LayoutValues, config: ModelConfig, run: RunFacts | undefined): Layout {
  const pp = intFlag(v.pp, 'pp', 1);
  const dp = intFlag(v.dp, 'dp', 1);
  // A run's micro-batch where it divides the run's batch over the data-parallel ranks.
  const runMicro = run !== undefined && run.globalBatch % (dp * run.run.batchSize) === 0 ? run.run.batchSize : 1;
  const microBatch = intFlag(v['micro-batch'], 'micro-batch', runMicro);
  const zero = intFlag(v.zero, 'zero', 1);
  if (zero < 0 || zero > 3) throw new UserError(`--zero must be 0, 1, 2 or 3, got ${zero}`);
  return {
    pp,
    tp: intFlag(v.tp, 'tp', 1),
    dp,
    ep: intFlag(v.ep, 'ep', 1),
    zero: zero as Layout['zero'],
    microBatch,
    globalBatch: intFlag(v['global-batch'], 'global-batch', run?.globalBatch ?? microBatch * dp * 2 * pp),
    seqLen: intFlag(v['seq-len'], 'seq-len', run?.seqLen ?? Math.min(4096, config.maxPositionEmbeddings)),
    schedule: oneOf(v.schedule, 'schedule', SCHEDULES, '1f1b'),
    recompute: oneOf(v.recompute, 'recompute', RECOMPUTE, 'selective'),
    compute: oneOf(v.precision, 'precision', ['bf16', 'fp8'] as const, run?.compute ?? 'bf16'),
    moments: oneOf(v.moments, 'moments', ['f32', 'bf16'] as const, run?.moments ?? 'f32'),
  };
}
