/**
 * FP8 mixed-precision training (DeepSeek-V3 §3.3). In FP8 mode every block linear layer (attention
 * q/kv/o projections, FFN and expert gate/up/down) runs its forward and both backward GEMMs on e4m3
 * inputs with fine-grained scales (1×128 tiles for activations and gradients, 128×128 blocks for
 * weights) and f32 accumulation; the embedding, output head, MoE router, norms and attention keep
 * f32, as do master weights, gradients and optimizer state. See docs/fp8.md for the memory budget.
 *
 * Usage — the whole forward and backward of a step inside one call:
 *
 *   withPrecision('fp8', () => { const { total } = lmObjective(model, ids, cfg); backward(total); });
 *
 * The mode decides which op each projection records during the forward; the recorded FP8 ops then
 * quantise their backward GEMMs whatever the mode is when backward() runs.
 */
import { withProjection } from '../model/linear.ts';
import { fp8Linear } from './fp8/linear.ts';

export type Precision = 'f32' | 'fp8';

/** Runs `fn` (a forward + backward) with the block projections in the given precision. */
export function withPrecision<T>(p: Precision, fn: () => T): T {
  return withProjection(p === 'fp8' ? fp8Linear : null, fn);
}

export { fp8Linear } from './fp8/linear.ts';
export { fp8Gemm } from './fp8/gemm.ts';
export {
  E4M3_MAX,
  FP8_TILE,
  quantizeTiles,
  quantizeTilesTransposed,
  quantizeBlocks,
  blockOperand,
  blockOperandTransposed,
  dequantizeOperand,
  operandValues,
  type Fp8Operand,
  type Fp8BlockWeight,
} from './fp8/quantize.ts';
