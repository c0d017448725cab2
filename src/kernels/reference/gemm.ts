/** Reference GEMM: the plain triple loop (f64 accumulation), the oracle the fast paths are held to. */
import type { GemmArgs } from '../types.ts';
import { checkGemm } from '../checks.ts';

export function gemm(a: GemmArgs): void {
  checkGemm(a);
  const { M, N, K, transA, transB, alpha, beta, A, aOffset, lda, B, bOffset, ldb, C, cOffset, ldc } = a;
  for (let m = 0; m < M; m++) {
    for (let n = 0; n < N; n++) {
      let acc = 0;
      for (let k = 0; k < K; k++) {
        const av = transA ? A[aOffset + k * lda + m]! : A[aOffset + m * lda + k]!;
        const bv = transB ? B[bOffset + n * ldb + k]! : B[bOffset + k * ldb + n]!;
        acc += av * bv;
      }
      const ci = cOffset + m * ldc + n;
      // beta = 0 must not read C (it may hold NaN garbage), as in BLAS.
      C[ci] = beta === 0 ? alpha * acc : alpha * acc + beta * C[ci]!;
    }
  }
}
