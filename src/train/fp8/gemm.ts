/**
 * The FP8 GEMM with increased accumulation precision (DeepSeek-V3 §3.3.2): the e4m3 operands are
 * multiplied over one 128-long chunk of the contraction axis at a time (the interval N_C = 128 at
 * which H800 tensor cores hand their partial sums to CUDA cores), and each chunk's partial result is
 * multiplied by its two scales (the A tile's and the B tile's or block's) and added to an f32
 * accumulator. Because the scales are constant within a chunk this is exactly
 * C = Σ_chunks s_A·s_B·(Q_A·Q_Bᵀ), with the inner products of exact e4m3 values done by the
 * ordinary f32 GEMM kernel.
 */
import { getKernels } from '../../kernels/index.ts';
import { FP8_TILE, chunksOf, type Fp8Operand } from './quantize.ts';

/** C [a.rows, b.rows] = A · Bᵀ over the shared contraction axis (a.cols = b.cols). */
export function fp8Gemm(a: Fp8Operand, b: Fp8Operand): Float32Array {
  if (a.cols !== b.cols) throw new Error(`fp8Gemm: contraction lengths differ (${a.cols} vs ${b.cols})`);
  const M = a.rows;
  const N = b.rows;
  const K = a.cols;
  const nc = chunksOf(K);
  const C = new Float32Array(M * N);
  if (M === 0 || N === 0 || K === 0) return C;
  const kernels = getKernels();
  const partial = nc === 1 ? C : new Float32Array(M * N);
  const sb = new Float64Array(N);
  for (let c = 0; c < nc; c++) {
    const kc = Math.min(FP8_TILE, K - c * FP8_TILE);
    // Operands are chunk-major: this chunk of A is a dense M × kc block, of B an N × kc block.
    kernels.gemm({
      M,
      N,
      K: kc,
      transA: false,
      transB: true,
      alpha: 1,
      beta: 0,
      A: a.q,
      aOffset: M * FP8_TILE * c,
      lda: kc,
      B: b.q,
      bOffset: N * FP8_TILE * c,
      ldb: kc,
      C: partial,
      cOffset: 0,
      ldc: N,
    });
    // Promotion: scale this chunk's partial sums by s_A · s_B and accumulate them in f32.
    for (let n = 0; n < N; n++) sb[n] = b.scale[n * nc + c]!;
    for (let m = 0; m < M; m++) {
      const sa = a.scale[m * nc + c]!;
      const row = m * N;
      if (c === 0) {
        for (let n = 0; n < N; n++) C[row + n] = partial[row + n]! * (sa * sb[n]!);
      } else {
        for (let n = 0; n < N; n++) C[row + n]! += partial[row + n]! * (sa * sb[n]!);
      }
    }
  }
  return C;
}
