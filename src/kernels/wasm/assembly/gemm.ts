// Packed, cache-blocked GEMM (Goto/BLIS structure) with a register-tiled SIMD micro-kernel.
// One job chunk = one TM×TN tile of C, computed over all of K by one thread.
import { fma } from './simd';
import { MR, NR, packA, packB } from './pack';
import { WeightDesc } from './decode';
import { pi, pp, pf } from './layout';

/** K block: an A panel (MR×KC) and a B panel (KC×NR) fit in L1 together; KC×TN_MAX of packed B in L2. */
export const KC = 384;
/** Rows of A packed at once (a multiple of MR): MC×KC floats stay in L2 while B panels stream. */
export const MC: i32 = 16 * MR;
/** Widest C tile a chunk may have (sizes the packed-B scratch); a multiple of NR. */
export const TN_MAX: i32 = 512 - 512 % NR;

// Per-thread scratch layout (bytes).
export const SCR_BP: usize = 0; // KC × TN_MAX f32
export const SCR_AP: usize = SCR_BP + <usize>(KC * TN_MAX * 4); // MC × KC f32
export const SCR_ROW: usize = SCR_AP + <usize>(MC * KC * 4 + 64); // NR × KC f32 (decoded weight rows)
export const SCR_TMP: usize = SCR_ROW + <usize>(NR * KC * 4); // MR × NR f32 (edge tiles)
export const SCR_W: usize = SCR_TMP + <usize>(MR * NR * 4); // WeightDesc
export const GEMM_SCRATCH: usize = SCR_W + 64;

/**
 * C[4×8] (row stride ldc bytes) += A panel (kc×4) · B panel (kc×8), kc ≥ 1: the plain-SIMD tile.
 * With `add` false C is overwritten instead (the first K block when beta = 0: no read of C).
 */
function kernel4x8(kc: i32, a: usize, b: usize, c: usize, ldc: usize, add: bool): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0), c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0), c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  let k = kc;
  do {
    const b0 = v128.load(b), b1 = v128.load(b, 16);
    const a0 = v128.load32_splat(a);
    c00 = fma(a0, b0, c00);
    c01 = fma(a0, b1, c01);
    const a1 = v128.load32_splat(a, 4);
    c10 = fma(a1, b0, c10);
    c11 = fma(a1, b1, c11);
    const a2 = v128.load32_splat(a, 8);
    c20 = fma(a2, b0, c20);
    c21 = fma(a2, b1, c21);
    const a3 = v128.load32_splat(a, 12);
    c30 = fma(a3, b0, c30);
    c31 = fma(a3, b1, c31);
    a += 16;
    b += 32;
  } while (--k);
  if (add) {
    c00 = f32x4.add(v128.load(c), c00);
    c01 = f32x4.add(v128.load(c, 16), c01);
    c10 = f32x4.add(v128.load(c + ldc), c10);
    c11 = f32x4.add(v128.load(c + ldc, 16), c11);
    c20 = f32x4.add(v128.load(c + 2 * ldc), c20);
    c21 = f32x4.add(v128.load(c + 2 * ldc, 16), c21);
    c30 = f32x4.add(v128.load(c + 3 * ldc), c30);
    c31 = f32x4.add(v128.load(c + 3 * ldc, 16), c31);
  }
  v128.store(c, c00);
  v128.store(c, c01, 16);
  c += ldc;
  v128.store(c, c10);
  v128.store(c, c11, 16);
  c += ldc;
  v128.store(c, c20);
  v128.store(c, c21, 16);
  c += ldc;
  v128.store(c, c30);
  v128.store(c, c31, 16);
}

/**
 * C[3×12] += A panel (kc×3) · B panel (kc×12): 9 accumulators, enough to cover the latency of
 * fused multiply-adds (4 cycles × 2 per cycle) with registers to spare for V8. `add` as above.
 */
function kernel3x12(kc: i32, a: usize, b: usize, c: usize, ldc: usize, add: bool): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0), c02 = f32x4.splat(0);
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0), c12 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0), c22 = f32x4.splat(0);
  let k = kc;
  do {
    const b0 = v128.load(b), b1 = v128.load(b, 16), b2 = v128.load(b, 32);
    const a0 = v128.load32_splat(a);
    c00 = fma(a0, b0, c00);
    c01 = fma(a0, b1, c01);
    c02 = fma(a0, b2, c02);
    const a1 = v128.load32_splat(a, 4);
    c10 = fma(a1, b0, c10);
    c11 = fma(a1, b1, c11);
    c12 = fma(a1, b2, c12);
    const a2 = v128.load32_splat(a, 8);
    c20 = fma(a2, b0, c20);
    c21 = fma(a2, b1, c21);
    c22 = fma(a2, b2, c22);
    a += 12;
    b += 48;
  } while (--k);
  if (add) {
    c00 = f32x4.add(v128.load(c), c00);
    c01 = f32x4.add(v128.load(c, 16), c01);
    c02 = f32x4.add(v128.load(c, 32), c02);
    c10 = f32x4.add(v128.load(c + ldc), c10);
    c11 = f32x4.add(v128.load(c + ldc, 16), c11);
    c12 = f32x4.add(v128.load(c + ldc, 32), c12);
    c20 = f32x4.add(v128.load(c + 2 * ldc), c20);
    c21 = f32x4.add(v128.load(c + 2 * ldc, 16), c21);
    c22 = f32x4.add(v128.load(c + 2 * ldc, 32), c22);
  }
  v128.store(c, c00);
  v128.store(c, c01, 16);
  v128.store(c, c02, 32);
  c += ldc;
  v128.store(c, c10);
  v128.store(c, c11, 16);
  v128.store(c, c12, 32);
  c += ldc;
  v128.store(c, c20);
  v128.store(c, c21, 16);
  v128.store(c, c22, 32);
}

// @ts-ignore: decorator
@inline function microKernel(kc: i32, a: usize, b: usize, c: usize, ldc: usize, add: bool): void {
  if (MR == 3) kernel3x12(kc, a, b, c, ldc, add);
  else kernel4x8(kc, a, b, c, ldc, add);
}

/**
 * Job params: 0 M, 1 N, 2 K, 3 transA, 4 transB, 5 A, 6 lda, 7 B, 8 ldb, 9 C, 10 ldc,
 * 11 TM, 12 TN, 13 tiles along N, 14 weight kind, 15 scales, 16 blockRows, 17 blockCols,
 * 18 weight in row tiles (tiles.ts);
 * f32: 0 alpha, 1 beta. Leading dimensions in elements; pointers in bytes.
 */
export function gemmChunk(chunk: i32, scratch: usize): void {
  const M = pi(0), N = pi(1), K = pi(2);
  const transA = pi(3) != 0, transB = pi(4) != 0;
  const A = pp(5), lda = pi(6), B = pp(7), ldb = pi(8), C = pp(9), ldc = pi(10);
  const TM = pi(11), TN = pi(12), tilesN = pi(13);
  const alpha = pf(0), beta = pf(1);
  const w = changetype<WeightDesc>(scratch + SCR_W);
  w.init(pi(14), B, K, pp(15), pi(16), pi(17), pi(18) != 0);

  const i0 = (chunk / tilesN) * TM, j0 = (chunk % tilesN) * TN;
  const i1 = min(M, i0 + TM), j1 = min(N, j0 + TN);
  const ldcB = <usize>ldc * 4;

  // C ← beta·C first (beta = 0 never reads C, which may hold NaN: the first K block then
  // overwrites C instead of adding to it); then accumulate alpha·A·B.
  if (beta != 1 && (beta != 0 || K == 0)) {
    for (let i = i0; i < i1; i++) {
      const row = C + <usize>i * ldcB;
      for (let j = j0; j < j1; j++) {
        const p = row + (<usize>j << 2);
        store<f32>(p, beta == 0 ? 0 : beta * load<f32>(p));
      }
    }
  }
  const bp = scratch + SCR_BP, ap = scratch + SCR_AP, tmp = scratch + SCR_TMP;
  const nc = j1 - j0;
  for (let k0 = 0; k0 < K; k0 += KC) {
    const kc = min(KC, K - k0);
    const add = k0 > 0 || beta != 0;
    packB(B, ldb, transB, w, j0, nc, k0, kc, bp, scratch + SCR_ROW);
    for (let ic = i0; ic < i1; ic += MC) {
      const mc = min(MC, i1 - ic);
      packA(A, lda, transA, ic, mc, k0, kc, alpha, ap);
      for (let jr = 0; jr < nc; jr += NR) {
        const nr = min(NR, nc - jr);
        const bPanel = bp + <usize>jr * <usize>kc * 4;
        for (let ir = 0; ir < mc; ir += MR) {
          const mr = min(MR, mc - ir);
          const aPanel = ap + <usize>ir * <usize>kc * 4;
          const cTile = C + <usize>(ic + ir) * ldcB + (<usize>(j0 + jr) << 2);
          if (mr == MR && nr == NR) {
            microKernel(kc, aPanel, bPanel, cTile, ldcB, add);
          } else {
            // Edge tile: compute the full micro-tile into scratch, then the valid part into C.
            microKernel(kc, aPanel, bPanel, tmp, <usize>(NR * 4), false);
            for (let i = 0; i < mr; i++) {
              for (let j = 0; j < nr; j++) {
                const p = cTile + <usize>i * ldcB + (<usize>j << 2);
                const v = load<f32>(tmp + <usize>(i * NR + j) * 4);
                store<f32>(p, add ? load<f32>(p) + v : v);
              }
            }
          }
        }
      }
    }
  }
}
