/**
 * FP8 mixed-precision training (DeepSeek-V3 §3.3): every block linear layer runs its forward and
 * both backward GEMMs on e4m3 inputs with fine-grained scales (1×128 tiles for activations and
 * gradients, 128×128 blocks for weights) and f32 accumulation. Switched on by
 * `withPrecision('fp8', …)` (./precision.ts); see docs/fp8.md.
 */
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
