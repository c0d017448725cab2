/**
 * A Linear layer whose three GEMMs take bf16 operands with f32 accumulation: the BF16 mixed-precision
 * baseline that DeepSeek-V3 (§3.3, Figure 7) measures its FP8 training against. Every operand is
 * rounded to bf16, round-to-nearest-even (PyTorch's cast, via the bit-exact codecs), then multiplied
 * by the f32 GEMM kernel: a product of two bf16 values has at most 16 significant bits, so it is
 * exact in f32 and the kernel computes what a bf16 tensor core does with f32 accumulation.
 *
 * - Fprop  y  = bf16(x)·bf16(W)ᵀ
 * - Dgrad  dx = bf16(dy)·bf16(W)
 * - Wgrad  dW = bf16(dy)ᵀ·bf16(x)
 *
 * The same three GEMMs as the FP8 layer (../fp8/linear.ts), with the same f32 outputs, so that the
 * BF16-vs-FP8 comparison isolates the operand format. (Under PyTorch autocast the outputs would be
 * rounded to bf16 as well; DeepSeek's Figure 6 also leaves Fprop's output in BF16 or FP32.) Master
 * weights and their gradients stay f32; the bias is added in f32.
 */
import * as T from '../../tensor/index.ts';
import { Tensor, record } from '../../tensor/index.ts';
import { decodeBf16, encodeBf16 } from '../../tensor/codecs.ts';
import { getKernels } from '../../kernels/index.ts';

/** `x` rounded to the nearest bf16 (ties to even), held as f32. */
export function roundBf16(x: Float32Array): Float32Array {
  return decodeBf16(encodeBf16(x));
}

/** C [M, N] = op(A)·op(B), op transposing a stored operand when asked (f32 accumulation). */
function gemm(A: Float32Array, B: Float32Array, M: number, N: number, K: number, transA: boolean, transB: boolean): Float32Array {
  const C = new Float32Array(M * N);
  if (M === 0 || N === 0 || K === 0) return C;
  getKernels().gemm({
    M,
    N,
    K,
    transA,
    transB,
    alpha: 1,
    beta: 0,
    A,
    aOffset: 0,
    lda: transA ? M : K,
    B,
    bOffset: 0,
    ldb: transB ? K : N,
    C,
    cOffset: 0,
    ldc: N,
  });
  return C;
}

/** y = x·Wᵀ (+ bias) for x [..., K], W [N, K], with bf16-operand forward and backward GEMMs. */
export function bf16Linear(x: Tensor, w: Tensor, bias?: Tensor | null): Tensor {
  if (w.rank !== 2) throw new Error(`bf16Linear weight must be 2-D, got [${w.shape}]`);
  const N = w.shape[0]!;
  const K = w.shape[1]!;
  if (x.shape[x.rank - 1] !== K) throw new Error(`bf16Linear: input [${x.shape}] does not match weight [${w.shape}]`);
  const xf = x.dtype === 'f32' ? x : T.cast(x, 'f32');
  const wf = w.dtype === 'f32' ? w : T.cast(w, 'f32');
  const X = roundBf16(T.floatData(xf) as Float32Array);
  const W = roundBf16(T.floatData(wf) as Float32Array);
  const M = X.length / K;
  const out = new Tensor(gemm(X, W, M, N, K, false, true), [...x.shape.slice(0, -1), N], 'f32');
  const y = record(out, 'bf16Linear', [xf, wf], (g) => {
    const G = roundBf16(T.floatData(g.dtype === 'f32' ? g : T.cast(g, 'f32')) as Float32Array);
    const dx = xf.requiresGrad ? new Tensor(gemm(G, W, M, K, N, false, false), xf.shape, 'f32') : null;
    const dw = wf.requiresGrad ? new Tensor(gemm(G, X, N, K, M, true, false), wf.shape, 'f32') : null;
    return [dx, dw];
  });
  if (!bias) return y;
  return T.add(y, bias.dtype === 'f32' ? bias : T.cast(bias, 'f32'));
}
