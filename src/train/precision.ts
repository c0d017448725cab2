/**
 * The precision of the block projections' GEMMs during training (DeepSeek-V3 §3.3): `f32`, `bf16`
 * (bf16 operands, f32 accumulation: the baseline the report compares FP8 against) or `fp8` (e4m3
 * operands with fine-grained scales). Only the block linears switch (attention q/kv/o projections,
 * FFN and expert gate/up/down); the embedding, output head, MoE router, norms and attention stay f32,
 * as do master weights and gradients. See docs/fp8.md.
 *
 * Usage — the whole forward and backward of a step inside one call:
 *
 *   withPrecision('fp8', () => { const { total } = lmObjective(model, ids, cfg); backward(total); });
 *
 * The mode decides which op each projection records during the forward; the recorded ops then
 * round their backward GEMMs' operands whatever the mode is when backward() runs.
 */
import { withProjection, type ProjectionFn } from '../model/linear.ts';
import { bf16Linear } from './bf16/linear.ts';
import { fp8Linear } from './fp8/linear.ts';

export const PRECISIONS = ['f32', 'bf16', 'fp8'] as const;
export type Precision = (typeof PRECISIONS)[number];

const LINEAR: Record<Precision, ProjectionFn | null> = { f32: null, bf16: bf16Linear, fp8: fp8Linear };

/** Runs `fn` (a forward + backward) with the block projections in the given precision. */
export function withPrecision<T>(p: Precision, fn: () => T): T {
  return withProjection(LINEAR[p], fn);
}
