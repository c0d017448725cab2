// Packing of GEMM operands into the micro-kernel's panel layouts (zero-padded at the edges).
//   A block (mc×kc) → panels of MR rows: panel p holds kc columns of MR values (k-major).
//   B block (kc×nc) → panels of NR cols: panel q holds kc rows of NR values (k-major).
import { tcol } from './simd';
import { decodeRow, WeightDesc } from './decode';
import { W_F32 } from './layout';

/** Micro-tile (rows × columns of C): 3×12 (9 accumulators) with fused multiply-add, else 4×8. */
export const MR: i32 = ASC_FEATURE_RELAXED_SIMD ? 3 : 4;
export const NR: i32 = ASC_FEATURE_RELAXED_SIMD ? 12 : 8;

/** Packs alpha·op(A)[i0 .. i0+mc, k0 .. k0+kc] (A is M×K, or K×M when transA). */
export function packA(A: usize, lda: i32, transA: bool, i0: i32, mc: i32, k0: i32, kc: i32, alpha: f32, dst: usize): void {
  const va = f32x4.splat(alpha);
  const step = <usize>MR * 4; // bytes per k in a panel
  for (let p = 0; p < mc; p += MR) {
    const mr = min(MR, mc - p);
    const d = dst + <usize>p * <usize>kc * 4;
    if (mr == MR && !transA) {
      // 4 k-values of each row, transposed to k-major; with MR = 3 the fourth lane of each
      // store spills into the next slot and is overwritten by the next store (scratch has slack).
      const r0 = A + (<usize>(i0 + p) * <usize>lda + <usize>k0) * 4;
      const ld = <usize>lda * 4;
      let k = 0;
      for (; k + 4 <= kc; k += 4) {
        const o = <usize>k * 4;
        const a0 = v128.load(r0 + o),
          a1 = v128.load(r0 + ld + o),
          a2 = v128.load(r0 + 2 * ld + o);
        const a3 = MR == 4 ? v128.load(r0 + 3 * ld + o) : f32x4.splat(0);
        const dk = d + <usize>k * step;
        v128.store(dk, f32x4.mul(tcol(a0, a1, a2, a3, 0), va));
        v128.store(dk + step, f32x4.mul(tcol(a0, a1, a2, a3, 1), va));
        v128.store(dk + 2 * step, f32x4.mul(tcol(a0, a1, a2, a3, 2), va));
        v128.store(dk + 3 * step, f32x4.mul(tcol(a0, a1, a2, a3, 3), va));
      }
      for (; k < kc; k++) {
        for (let i = 0; i < MR; i++) store<f32>(d + <usize>(k * MR + i) * 4, load<f32>(r0 + <usize>i * ld + <usize>k * 4) * alpha);
      }
    } else if (mr == MR && p + 3 < mc) {
      // Stored K×M: MR consecutive values per k, read as 4 (the 4th exists: p + 3 < mc) and
      // stored as 4 (with MR = 3 the extra lane is overwritten by the next k).
      const src = A + (<usize>k0 * <usize>lda + <usize>(i0 + p)) * 4;
      for (let k = 0; k < kc; k++) {
        v128.store(d + <usize>k * step, f32x4.mul(v128.load(src + <usize>k * <usize>lda * 4), va));
      }
    } else {
      for (let k = 0; k < kc; k++) {
        for (let i = 0; i < MR; i++) {
          let v: f32 = 0;
          if (i < mr) {
            const m = i0 + p + i;
            v = transA
              ? load<f32>(A + (<usize>(k0 + k) * <usize>lda + <usize>m) * 4)
              : load<f32>(A + (<usize>m * <usize>lda + <usize>(k0 + k)) * 4);
            v *= alpha;
          }
          store<f32>(d + <usize>(k * MR + i) * 4, v);
        }
      }
    }
  }
}

/** Packs NR rows of an N×K f32 matrix (rows r .. r+NR, columns k0 .. k0+kc) as one B panel. */
function packRowsT(src: usize, ld: usize, kc: i32, d: usize): void {
  // src points at [r, k0]; ld in bytes. Each group of 4 rows is a 4×4 transpose per 4 k.
  const step = <usize>NR * 4;
  let k = 0;
  for (; k + 4 <= kc; k += 4) {
    const o = <usize>k * 4;
    const dk = d + <usize>k * step;
    for (let g: usize = 0; g < <usize>NR; g += 4) {
      const s = src + g * ld + o;
      const a0 = v128.load(s),
        a1 = v128.load(s + ld),
        a2 = v128.load(s + 2 * ld),
        a3 = v128.load(s + 3 * ld);
      v128.store(dk + g * 4, tcol(a0, a1, a2, a3, 0));
      v128.store(dk + step + g * 4, tcol(a0, a1, a2, a3, 1));
      v128.store(dk + 2 * step + g * 4, tcol(a0, a1, a2, a3, 2));
      v128.store(dk + 3 * step + g * 4, tcol(a0, a1, a2, a3, 3));
    }
  }
  for (; k < kc; k++) {
    for (let j = 0; j < NR; j++) store<f32>(d + <usize>(k * NR + j) * 4, load<f32>(src + <usize>j * ld + <usize>k * 4));
  }
}

/**
 * Packs op(B)[k0 .. k0+kc, j0 .. j0+nc]. B is f32 (K×N, or N×K when transB) or a quantised
 * N×K weight, decoded here through `rowBuf` (NR×kc f32) so the micro-kernel only sees f32.
 */
export function packB(
  B: usize,
  ldb: i32,
  transB: bool,
  w: WeightDesc,
  j0: i32,
  nc: i32,
  k0: i32,
  kc: i32,
  dst: usize,
  rowBuf: usize,
): void {
  for (let q = 0; q < nc; q += NR) {
    const nr = min(NR, nc - q);
    const d = dst + <usize>q * <usize>kc * 4;
    const c0 = j0 + q;
    if (w.kind != W_F32) {
      for (let j = 0; j < NR; j++) {
        const row = rowBuf + <usize>j * <usize>kc * 4;
        if (j < nr) decodeRow(w, c0 + j, k0, kc, row);
        else memory.fill(row, 0, <usize>kc * 4);
      }
      packRowsT(rowBuf, <usize>kc * 4, kc, d);
    } else if (transB && nr == NR) {
      packRowsT(B + (<usize>c0 * <usize>ldb + <usize>k0) * 4, <usize>ldb * 4, kc, d);
    } else if (!transB && nr == NR) {
      const src = B + (<usize>k0 * <usize>ldb + <usize>c0) * 4;
      for (let k = 0; k < kc; k++) {
        const s = src + <usize>k * <usize>ldb * 4;
        const dk = d + <usize>k * <usize>NR * 4;
        for (let g: usize = 0; g < <usize>NR * 4; g += 16) v128.store(dk + g, v128.load(s + g));
      }
    } else {
      for (let k = 0; k < kc; k++) {
        for (let j = 0; j < NR; j++) {
          let v: f32 = 0;
          if (j < nr) {
            const n = c0 + j;
            v = transB
              ? load<f32>(B + (<usize>n * <usize>ldb + <usize>(k0 + k)) * 4)
              : load<f32>(B + (<usize>(k0 + k) * <usize>ldb + <usize>n) * 4);
          }
          store<f32>(d + <usize>(k * NR + j) * 4, v);
        }
      }
    }
  }
}
