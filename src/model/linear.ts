/**
 * The block projections of a Transformer layer (attention q/kv/o, MLP gate/up/down) go through
 * `projection`, so the precision of exactly those GEMMs can be switched without touching the model
 * code. DeepSeek-V3 §3.3 runs them in FP8 during training while the embedding, output head, MoE
 * router, norms and attention stay in higher precision — those keep calling `T.linear` directly.
 *
 * The model layer only holds the switch: the FP8 implementation lives in `train/fp8` (the model must
 * not depend on training code) and is installed for the duration of a forward+backward by
 * `withPrecision('fp8', …)` (train/precision.ts), which calls `withProjection` here.
 */
import * as T from '../tensor/index.ts';
import type { Tensor } from '../tensor/index.ts';

/** y = x·Wᵀ (+ bias) for x [..., K] and W [N, K], HF's Linear layout. */
export type ProjectionFn = (x: Tensor, w: Tensor, bias?: Tensor | null) => Tensor;

let active: ProjectionFn | null = null;

/**
 * A block projection: `T.linear` normally; the installed implementation (FP8 training) when one is
 * active and the weight is a float master weight. Stored low-precision weights (bf16 / fp8
 * checkpoints at inference) always take `T.linear`, which dequantises inside the kernel.
 */
export function projection(x: Tensor, w: Tensor, bias?: Tensor | null): Tensor {
  if (active && (w.dtype === 'f32' || w.dtype === 'f64')) return active(x, w, bias);
  return T.linear(x, w, bias);
}

/** Runs `body` with `impl` as the block projection (null: plain `T.linear`), restoring the previous one after. */
export function withProjection<R>(impl: ProjectionFn | null, body: () => R): R {
  const prev = active;
  active = impl;
  try {
    return body();
  } finally {
    active = prev;
  }
}
