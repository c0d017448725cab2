// GEMM with few rows of A (M ≤ 4: decoding, small batches): no packing, B streamed once.
// A arrives compacted (M×K, alpha folded in) so only B's layout varies.
import { fma, hsum } from './simd';
import { pi, pp, pf } from './layout';

/** dst[M×K] = alpha·op(A) (A is M×K, or K×M when transA): run once on the main thread. */
export function compactA(A: usize, lda: i32, transA: bool, M: i32, K: i32, alpha: f32, dst: usize): void {
  for (let m = 0; m < M; m++) {
    for (let k = 0; k < K; k++) {
      const v = transA ? load<f32>(A + (<usize>k * <usize>lda + <usize>m) * 4) : load<f32>(A + (<usize>m * <usize>lda + <usize>k) * 4);
      store<f32>(dst + (<usize>m * <usize>K + <usize>k) * 4, v * alpha);
    }
  }
}

// @ts-ignore: decorator
@inline function storeC(p: usize, v: f32, beta: f32): void {
  store<f32>(p, beta == 0 ? v : v + beta * load<f32>(p));
}

/** C[m, n0..n1) for B stored N×K: dot products of A rows with B rows, four B rows at a time. */
function skinnyT(M: i32, K: i32, a: usize, B: usize, ldb: usize, C: usize, ldc: usize, beta: f32, n0: i32, n1: i32): void {
  const K4 = K & ~3;
  let n = n0;
  for (; n + 4 <= n1; n += 4) {
    const b0 = B + <usize>n * ldb, b1 = b0 + ldb, b2 = b1 + ldb, b3 = b2 + ldb;
    for (let m = 0; m < M; m++) {
      const am = a + <usize>m * <usize>K * 4;
      let s0 = f32x4.splat(0), s1 = f32x4.splat(0), s2 = f32x4.splat(0), s3 = f32x4.splat(0);
      for (let k = 0; k < K4; k += 4) {
        const o = <usize>k << 2;
        const av = v128.load(am + o);
        s0 = fma(av, v128.load(b0 + o), s0);
        s1 = fma(av, v128.load(b1 + o), s1);
        s2 = fma(av, v128.load(b2 + o), s2);
        s3 = fma(av, v128.load(b3 + o), s3);
      }
      let r0 = hsum(s0), r1 = hsum(s1), r2 = hsum(s2), r3 = hsum(s3);
      for (let k = K4; k < K; k++) {
        const o = <usize>k << 2;
        const av = load<f32>(am + o);
        r0 += av * load<f32>(b0 + o);
        r1 += av * load<f32>(b1 + o);
        r2 += av * load<f32>(b2 + o);
        r3 += av * load<f32>(b3 + o);
      }
      const c = C + <usize>m * ldc + (<usize>n << 2);
      storeC(c, r0, beta);
      storeC(c + 4, r1, beta);
      storeC(c + 8, r2, beta);
      storeC(c + 12, r3, beta);
    }
  }
  for (; n < n1; n++) {
    const b0 = B + <usize>n * ldb;
    for (let m = 0; m < M; m++) {
      const am = a + <usize>m * <usize>K * 4;
      let s0 = f32x4.splat(0);
      for (let k = 0; k < K4; k += 4) s0 = fma(v128.load(am + (<usize>k << 2)), v128.load(b0 + (<usize>k << 2)), s0);
      let r0 = hsum(s0);
      for (let k = K4; k < K; k++) r0 += load<f32>(am + (<usize>k << 2)) * load<f32>(b0 + (<usize>k << 2));
      storeC(C + <usize>m * ldc + (<usize>n << 2), r0, beta);
    }
  }
}

/** C[m, n0..n1) for B stored K×N: rows of B scaled and summed into an accumulator row per m. */
function skinnyN(M: i32, K: i32, a: usize, B: usize, ldb: usize, C: usize, ldc: usize, beta: f32, n0: i32, n1: i32, y: usize): void {
  const W = n1 - n0, W4 = W & ~3;
  const rowBytes = <usize>W << 2;
  memory.fill(y, 0, <usize>M * rowBytes);
  let k = 0;
  for (; k + 2 <= K; k += 2) {
    const r0 = B + <usize>k * ldb + (<usize>n0 << 2), r1 = r0 + ldb;
    for (let m = 0; m < M; m++) {
      const am = a + (<usize>m * <usize>K + <usize>k) * 4;
      const x0 = v128.load32_splat(am), x1 = v128.load32_splat(am, 4);
      const ym = y + <usize>m * rowBytes;
      for (let v = 0; v < W4; v += 4) {
        const o = <usize>v << 2;
        v128.store(ym + o, fma(x1, v128.load(r1 + o), fma(x0, v128.load(r0 + o), v128.load(ym + o))));
      }
      const s0 = load<f32>(am), s1 = load<f32>(am, 4);
      for (let v = W4; v < W; v++) {
        const o = <usize>v << 2;
        store<f32>(ym + o, load<f32>(ym + o) + s0 * load<f32>(r0 + o) + s1 * load<f32>(r1 + o));
      }
    }
  }
  for (; k < K; k++) {
    const r0 = B + <usize>k * ldb + (<usize>n0 << 2);
    for (let m = 0; m < M; m++) {
      const s0 = load<f32>(a + (<usize>m * <usize>K + <usize>k) * 4);
      const x0 = f32x4.splat(s0);
      const ym = y + <usize>m * rowBytes;
      for (let v = 0; v < W4; v += 4) {
        const o = <usize>v << 2;
        v128.store(ym + o, fma(x0, v128.load(r0 + o), v128.load(ym + o)));
      }
      for (let v = W4; v < W; v++) {
        const o = <usize>v << 2;
        store<f32>(ym + o, load<f32>(ym + o) + s0 * load<f32>(r0 + o));
      }
    }
  }
  for (let m = 0; m < M; m++) {
    for (let v = 0; v < W; v++) storeC(C + <usize>m * ldc + (<usize>(n0 + v) << 2), load<f32>(y + <usize>m * rowBytes + (<usize>v << 2)), beta);
  }
}

/** Job params: 0 M, 1 N, 2 K, 3 transB, 4 compacted A, 5 B, 6 ldb, 7 C, 8 ldc, 9 columns per chunk; f32 1 beta. */
export function skinnyChunk(chunk: i32, scratch: usize): void {
  const M = pi(0), N = pi(1), K = pi(2), transB = pi(3) != 0;
  const a = pp(4), B = pp(5), ldb = <usize>pi(6) * 4, C = pp(7), ldc = <usize>pi(8) * 4, per = pi(9);
  const beta = pf(1);
  const n0 = chunk * per, n1 = min(N, n0 + per);
  if (transB) skinnyT(M, K, a, B, ldb, C, ldc, beta, n0, n1);
  else skinnyN(M, K, a, B, ldb, C, ldc, beta, n0, n1, scratch);
}
