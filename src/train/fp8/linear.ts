/**
 * A Linear layer whose three GEMMs run in FP8 (DeepSeek-V3 §3.3, Figure 6), as an autograd op:
 *
 * - Fprop  y  = x·Wᵀ : x in 1×128 tiles along K, W in 128×128 blocks;
 * - Dgrad  dx = dy·W : dy in 1×128 tiles along N, W reusing the forward's blocks (transposed);
 * - Wgrad  dW = dyᵀ·x: dy and x both in tiles of 128 tokens (128×1 tiles), since this GEMM
 *   contracts over the token axis.
 *
 * Every operand is e4m3 (the paper uses E4M3 for gradients too, thanks to the fine-grained scales),
 * every GEMM accumulates in f32 with promotion every 128 values. Master weights stay f32 and get an
 * f32 gradient; the bias, if any, is added in f32 outside the GEMM. The input x is kept in f32 for
 * the backward (the paper caches it in FP8 to save memory; on this CPU emulation there is no such
 * saving to claim, and requantising per 128×1 tiles from f32 avoids a double rounding).
 */
import * as T from '../../tensor/index.ts';
import { Tensor, record } from '../../tensor/index.ts';
import { fp8Gemm } from './gemm.ts';
import { blockOperand, blockOperandTransposed, quantizeBlocks, quantizeTiles, quantizeTilesTransposed } from './quantize.ts';

/** y = x·Wᵀ (+ bias) for x [..., K], W [N, K], with FP8 forward and backward GEMMs. */
export function fp8Linear(x: Tensor, w: Tensor, bias?: Tensor | null): Tensor {
  if (w.rank !== 2) throw new Error(`fp8Linear weight must be 2-D, got [${w.shape}]`);
  const N = w.shape[0]!;
  const K = w.shape[1]!;
  if (x.shape[x.rank - 1] !== K) throw new Error(`fp8Linear: input [${x.shape}] does not match weight [${w.shape}]`);
  const xf = x.dtype === 'f32' ? x : T.cast(x, 'f32');
  const wf = w.dtype === 'f32' ? w : T.cast(w, 'f32');
  const X = T.floatData(xf);
  const W = T.floatData(wf);
  const M = X.length / K;
  const qw = quantizeBlocks(W, N, K);
  const Y = fp8Gemm(quantizeTiles(X, M, K), blockOperand(qw));
  const out = new Tensor(Y, [...x.shape.slice(0, -1), N], 'f32');
  const y = record(out, 'fp8Linear', [xf, wf], (g) => {
    const G = T.floatData(g.dtype === 'f32' ? g : T.cast(g, 'f32'));
    const dx = xf.requiresGrad ? new Tensor(fp8Gemm(quantizeTiles(G, M, N), blockOperandTransposed(qw)), xf.shape, 'f32') : null;
    const dw = wf.requiresGrad
      ? new Tensor(fp8Gemm(quantizeTilesTransposed(G, M, N), quantizeTilesTransposed(X, M, K)), wf.shape, 'f32')
      : null;
    return [dx, dw];
  });
  if (!bias) return y;
  return T.add(y, bias.dtype === 'f32' ? bias : T.cast(bias, 'f32'));
}
