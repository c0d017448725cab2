// Matrix-vector products with low-precision weights (M ≤ 4 rows of X), decoded in registers.
// Bandwidth-bound: each weight byte is read once from memory; decoding is a few integer ops.
// Weights are in row tiles (tiles.ts): a tile of R rows is one sequential stream, processed R
// rows at a time so loads of X are shared; codes past K are zero (so is X there), no tails.
//   bf16: 8 codes per chunk; even codes = lane << 16, odd codes = lane & 0xffff0000.
//   f16: 8 codes per chunk, kept in order; bits shifted into f32 place × 2^112.
//   fp8 / i8: 16 codes per chunk; each 32-bit lane holds 4 codes, group p = byte p of every lane.
// X is pre-permuted (prepX) so that each lane meets the code it multiplies.
// Loop-carried dependencies are one add per row per chunk: the products of a chunk are summed
// first (FMA latency would otherwise bound the loop, and more accumulators spill).
import { fma, hsum, tcol } from './simd';
import { pi, pp, W_BF16, W_E4M3, W_E5M2, W_F16, W_I8 } from './layout';
import { decodeAt, scaleAt, WeightDesc } from './decode';
import { chunksPerRow, paddedK } from './tiles';

/** True when the SIMD (tiled) path exists for this kind and blocking; else row-major + scalar. */
export function qmvVectorised(kind: i32, blockCols: i32): bool {
  if (kind == W_E4M3 || kind == W_E5M2) return blockCols % 16 == 0;
  return true;
}

/**
 * Xp[m] = mul · X[m], rearranged within every chunk to the decode's lane order and zero-padded to
 * whole chunks (row stride paddedK). mul is 1, or 2^(127−bias) for the prescaled fp8 path.
 * Non-vectorised kinds get X unchanged (row stride K). Main thread, once per call.
 */
export function prepX(kind: i32, blockCols: i32, X: usize, M: i32, K: i32, Xp: usize, mul: f32): void {
  const vec = qmvVectorised(kind, blockCols);
  const Kp = vec ? paddedK(kind, K) : K;
  const vm = f32x4.splat(mul);
  for (let m = 0; m < M; m++) {
    const x = X + <usize>m * <usize>K * 4, d = Xp + <usize>m * <usize>Kp * 4;
    let k = 0;
    if (vec && (kind == W_BF16)) {
      // [x0..x7] → [x0 x2 x4 x6 | x1 x3 x5 x7]
      for (; k + 8 <= K; k += 8) {
        const o = <usize>k << 2;
        const a = v128.load(x + o), b = v128.load(x + o, 16);
        v128.store(d + o, f32x4.mul(v128.shuffle<f32>(a, b, 0, 2, 4, 6), vm));
        v128.store(d + o, f32x4.mul(v128.shuffle<f32>(a, b, 1, 3, 5, 7), vm), 16);
      }
    } else if (vec && kind != W_F16) {
      // A 4×4 transpose: group p gathers x[4j + p], j = 0..3.
      for (; k + 16 <= K; k += 16) {
        const o = <usize>k << 2;
        const r0 = v128.load(x + o), r1 = v128.load(x + o, 16), r2 = v128.load(x + o, 32), r3 = v128.load(x + o, 48);
        v128.store(d + o, f32x4.mul(tcol(r0, r1, r2, r3, 0), vm));
        v128.store(d + o, f32x4.mul(tcol(r0, r1, r2, r3, 1), vm), 16);
        v128.store(d + o, f32x4.mul(tcol(r0, r1, r2, r3, 2), vm), 32);
        v128.store(d + o, f32x4.mul(tcol(r0, r1, r2, r3, 3), vm), 48);
      }
    }
    if (k < K && vec && kind != W_F16) {
      // The last, partial chunk: permute through a zero-padded copy.
      const G = kind == W_BF16 ? 8 : 16;
      for (let j = 0; j < G; j++) {
        const src = k + (G == 8 ? (j < 4 ? 2 * j : 2 * (j - 4) + 1) : 4 * (j & 3) + (j >> 2));
        store<f32>(d + <usize>(k + j) * 4, src < K ? load<f32>(x + <usize>src * 4) * mul : 0);
      }
      k += G;
    }
    for (; k < K; k++) store<f32>(d + <usize>k * 4, load<f32>(x + <usize>k * 4) * mul);
    for (; k < Kp; k++) store<f32>(d + <usize>k * 4, 0);
  }
}

/** Stores r of a tile's results (the rest are padding rows). */
// @ts-ignore: decorator
@inline function storeRow(y: usize, r: i32, rows: i32, v: f32): void {
  if (r < rows) store<f32>(y + (<usize>r << 2), v);
}

// ---- bf16 (8 rows per tile) ----

// @ts-ignore: decorator
@inline function bf16dot(v: v128, xe: v128, xo: v128, a: v128): v128 {
  return f32x4.add(a, fma(v128.and(v, i32x4.splat(<i32>0xffff0000)), xo, f32x4.mul(i32x4.shl(v, 16), xe)));
}

function qmvBf16(M: i32, C: i32, Xp: usize, ldx: usize, W: usize, n0: i32, n1: i32, Y: usize, ldy: usize): void {
  for (let n = n0; n < n1; n += 8) {
    const rows = min(8, n1 - n);
    const tile = W + <usize>(n >> 3) * <usize>C * 128;
    for (let m = 0; m < M; m++) {
      const x = Xp + <usize>m * ldx;
      let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
      let a4 = f32x4.splat(0), a5 = f32x4.splat(0), a6 = f32x4.splat(0), a7 = f32x4.splat(0);
      let p = tile, xp = x;
      for (let c = 0; c < C; c++) {
        const xe = v128.load(xp), xo = v128.load(xp, 16);
        a0 = bf16dot(v128.load(p), xe, xo, a0);
        a1 = bf16dot(v128.load(p, 16), xe, xo, a1);
        a2 = bf16dot(v128.load(p, 32), xe, xo, a2);
        a3 = bf16dot(v128.load(p, 48), xe, xo, a3);
        a4 = bf16dot(v128.load(p, 64), xe, xo, a4);
        a5 = bf16dot(v128.load(p, 80), xe, xo, a5);
        a6 = bf16dot(v128.load(p, 96), xe, xo, a6);
        a7 = bf16dot(v128.load(p, 112), xe, xo, a7);
        p += 128;
        xp += 32;
      }
      const y = Y + <usize>m * ldy + (<usize>n << 2);
      storeRow(y, 0, rows, hsum(a0));
      storeRow(y, 1, rows, hsum(a1));
      storeRow(y, 2, rows, hsum(a2));
      storeRow(y, 3, rows, hsum(a3));
      storeRow(y, 4, rows, hsum(a4));
      storeRow(y, 5, rows, hsum(a5));
      storeRow(y, 6, rows, hsum(a6));
      storeRow(y, 7, rows, hsum(a7));
    }
  }
}

// ---- f16 (8 rows per tile) ----

/** 8 f16 codes in order: sign/exponent/mantissa shifted into f32 place, × 2^112 (exact for finite codes). */
// @ts-ignore: decorator
@inline function f16dot(v: v128, x0: v128, x1: v128, a: v128): v128 {
  const mask = i32x4.splat(<i32>0x8fffe000), mul = f32x4.splat(5.192296858534828e33);
  const lo = f32x4.mul(v128.and(i32x4.shr_s(i32x4.shl(i32x4.extend_low_i16x8_u(v), 16), 3), mask), mul);
  const hi = f32x4.mul(v128.and(i32x4.shr_s(i32x4.shl(i32x4.extend_high_i16x8_u(v), 16), 3), mask), mul);
  return f32x4.add(a, fma(hi, x1, f32x4.mul(lo, x0)));
}

function qmvF16(M: i32, C: i32, Xp: usize, ldx: usize, W: usize, n0: i32, n1: i32, Y: usize, ldy: usize): void {
  for (let n = n0; n < n1; n += 8) {
    const rows = min(8, n1 - n);
    const tile = W + <usize>(n >> 3) * <usize>C * 128;
    for (let m = 0; m < M; m++) {
      const x = Xp + <usize>m * ldx;
      let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
      let a4 = f32x4.splat(0), a5 = f32x4.splat(0), a6 = f32x4.splat(0), a7 = f32x4.splat(0);
      let p = tile, xp = x;
      for (let c = 0; c < C; c++) {
        const x0 = v128.load(xp), x1 = v128.load(xp, 16);
        a0 = f16dot(v128.load(p), x0, x1, a0);
        a1 = f16dot(v128.load(p, 16), x0, x1, a1);
        a2 = f16dot(v128.load(p, 32), x0, x1, a2);
        a3 = f16dot(v128.load(p, 48), x0, x1, a3);
        a4 = f16dot(v128.load(p, 64), x0, x1, a4);
        a5 = f16dot(v128.load(p, 80), x0, x1, a5);
        a6 = f16dot(v128.load(p, 96), x0, x1, a6);
        a7 = f16dot(v128.load(p, 112), x0, x1, a7);
        p += 128;
        xp += 32;
      }
      const y = Y + <usize>m * ldy + (<usize>n << 2);
      storeRow(y, 0, rows, hsum(a0));
      storeRow(y, 1, rows, hsum(a1));
      storeRow(y, 2, rows, hsum(a2));
      storeRow(y, 3, rows, hsum(a3));
      storeRow(y, 4, rows, hsum(a4));
      storeRow(y, 5, rows, hsum(a5));
      storeRow(y, 6, rows, hsum(a6));
      storeRow(y, 7, rows, hsum(a7));
    }
  }
}

// ---- fp8 (4 rows per tile, one f32 scale per blockRows × blockCols block) ----

/**
 * One 16-code fp8 chunk of a row: a += decode(v) · x. Decoding works on 16-bit lanes, 8 codes per
 * op: a code c in the top byte of a lane becomes (sign << 15) | ((c & 0x7f) << 4) after an
 * arithmetic shift by 4 (e5m2: 3) and a mask — the upper half of the f32 whose bits are the code
 * shifted into f32 place — then `<< 16` / `& 0xffff0000` turn each 32-bit lane's two halves into
 * f32 (groups p = 0..3 meet X prepared in prepX's order). The value is those bits · 2^(127−bias),
 * a factor X carries when `prescaled` (exact; subnormal codes are exact too, though denormal
 * arithmetic is slow; NaN codes are not special-cased).
 */
// @ts-ignore: decorator
@inline function fp8dot(v: v128, x0: v128, x1: v128, x2: v128, x3: v128, a: v128, e4: bool, prescaled: bool): v128 {
  const mul = f32x4.splat(e4 ? 1.329227995784916e36 : 5.192296858534828e33); // 2^120, 2^112
  const m16 = i16x8.splat(e4 ? <i16>0x87f0 : <i16>0x8fe0);
  const hi = i32x4.splat(<i32>0xffff0000);
  const shift = e4 ? 4 : 3;
  const odd = v128.and(i16x8.shr_s(v, shift), m16); // codes 1, 3 of every 32-bit lane
  const even = v128.and(i16x8.shr_s(i16x8.shl(v, 8), shift), m16); // codes 0, 2
  let d0 = i32x4.shl(even, 16), d1 = i32x4.shl(odd, 16);
  let d2 = v128.and(even, hi), d3 = v128.and(odd, hi);
  if (!prescaled) {
    d0 = f32x4.mul(d0, mul);
    d1 = f32x4.mul(d1, mul);
    d2 = f32x4.mul(d2, mul);
    d3 = f32x4.mul(d3, mul);
  }
  return f32x4.add(a, f32x4.add(fma(d1, x1, f32x4.mul(d0, x0)), fma(d3, x3, f32x4.mul(d2, x2))));
}

// @ts-ignore: decorator
@inline function qmvFp8(e4: bool, prescaled: bool, M: i32, C: i32, Xp: usize, ldx: usize, w: WeightDesc, n0: i32, n1: i32, Y: usize, ldy: usize): void {
  const segChunks = w.blockCols >> 4; // chunks per scale block (blockCols % 16 = 0 here)
  for (let n = n0; n < n1; n += 4) {
    const rows = min(4, n1 - n);
    const tile = w.data + <usize>(n >> 2) * <usize>C * 64;
    for (let m = 0; m < M; m++) {
      const x = Xp + <usize>m * ldx;
      let y0: f32 = 0, y1: f32 = 0, y2: f32 = 0, y3: f32 = 0;
      let p = tile, xp = x;
      for (let c0 = 0; c0 < C; c0 += segChunks) {
        let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
        for (let c = c0, c1 = min(C, c0 + segChunks); c < c1; c++) {
          const x0 = v128.load(xp), x1 = v128.load(xp, 16), x2 = v128.load(xp, 32), x3 = v128.load(xp, 48);
          a0 = fp8dot(v128.load(p), x0, x1, x2, x3, a0, e4, prescaled);
          a1 = fp8dot(v128.load(p, 16), x0, x1, x2, x3, a1, e4, prescaled);
          a2 = fp8dot(v128.load(p, 32), x0, x1, x2, x3, a2, e4, prescaled);
          a3 = fp8dot(v128.load(p, 48), x0, x1, x2, x3, a3, e4, prescaled);
          p += 64;
          xp += 64;
        }
        // Padding rows alias valid scale rows; their sums are zero and are not stored.
        const k = c0 << 4;
        y0 += hsum(a0) * scaleAt(w, n, k);
        y1 += hsum(a1) * scaleAt(w, min(n + 1, n1 - 1), k);
        y2 += hsum(a2) * scaleAt(w, min(n + 2, n1 - 1), k);
        y3 += hsum(a3) * scaleAt(w, min(n + 3, n1 - 1), k);
      }
      const y = Y + <usize>m * ldy + (<usize>n << 2);
      storeRow(y, 0, rows, y0);
      storeRow(y, 1, rows, y1);
      storeRow(y, 2, rows, y2);
      storeRow(y, 3, rows, y3);
    }
  }
}

function qmvE4m3(M: i32, C: i32, Xp: usize, ldx: usize, w: WeightDesc, n0: i32, n1: i32, Y: usize, ldy: usize): void {
  qmvFp8(true, false, M, C, Xp, ldx, w, n0, n1, Y, ldy);
}
function qmvE4m3Prescaled(M: i32, C: i32, Xp: usize, ldx: usize, w: WeightDesc, n0: i32, n1: i32, Y: usize, ldy: usize): void {
  qmvFp8(true, true, M, C, Xp, ldx, w, n0, n1, Y, ldy);
}
function qmvE5m2(M: i32, C: i32, Xp: usize, ldx: usize, w: WeightDesc, n0: i32, n1: i32, Y: usize, ldy: usize): void {
  qmvFp8(false, false, M, C, Xp, ldx, w, n0, n1, Y, ldy);
}
function qmvE5m2Prescaled(M: i32, C: i32, Xp: usize, ldx: usize, w: WeightDesc, n0: i32, n1: i32, Y: usize, ldy: usize): void {
  qmvFp8(false, true, M, C, Xp, ldx, w, n0, n1, Y, ldy);
}

// ---- int8 (4 rows per tile, one scale per row) ----

/** Byte p of every lane of v (p = 0..3, lowest first) as a sign-extended f32. */
// @ts-ignore: decorator
@inline function i8lane(v: v128, p: i32): v128 {
  return f32x4.convert_i32x4_s(p == 3 ? i32x4.shr_s(v, 24) : i32x4.shr_s(i32x4.shl(v, 24 - 8 * p), 24));
}

// @ts-ignore: decorator
@inline function i8dot(v: v128, x0: v128, x1: v128, x2: v128, x3: v128, a: v128): v128 {
  return f32x4.add(a, f32x4.add(fma(i8lane(v, 1), x1, f32x4.mul(i8lane(v, 0), x0)), fma(i8lane(v, 3), x3, f32x4.mul(i8lane(v, 2), x2))));
}

function qmvI8(M: i32, C: i32, Xp: usize, ldx: usize, w: WeightDesc, n0: i32, n1: i32, Y: usize, ldy: usize): void {
  for (let n = n0; n < n1; n += 4) {
    const rows = min(4, n1 - n);
    const tile = w.data + <usize>(n >> 2) * <usize>C * 64;
    for (let m = 0; m < M; m++) {
      const x = Xp + <usize>m * ldx;
      let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
      let p = tile, xp = x;
      for (let c = 0; c < C; c++) {
        const x0 = v128.load(xp), x1 = v128.load(xp, 16), x2 = v128.load(xp, 32), x3 = v128.load(xp, 48);
        a0 = i8dot(v128.load(p), x0, x1, x2, x3, a0);
        a1 = i8dot(v128.load(p, 16), x0, x1, x2, x3, a1);
        a2 = i8dot(v128.load(p, 32), x0, x1, x2, x3, a2);
        a3 = i8dot(v128.load(p, 48), x0, x1, x2, x3, a3);
        p += 64;
        xp += 64;
      }
      const y = Y + <usize>m * ldy + (<usize>n << 2);
      const sc = w.scales + (<usize>n << 2);
      storeRow(y, 0, rows, hsum(a0) * load<f32>(sc));
      if (rows > 1) storeRow(y, 1, rows, hsum(a1) * load<f32>(sc, 4));
      if (rows > 2) storeRow(y, 2, rows, hsum(a2) * load<f32>(sc, 8));
      if (rows > 3) storeRow(y, 3, rows, hsum(a3) * load<f32>(sc, 12));
    }
  }
}

/** Any kind, row-major, one code at a time through the exact tables (fp8 with odd block sizes). */
function qmvScalar(M: i32, K: i32, X: usize, w: WeightDesc, n0: i32, n1: i32, Y: usize, ldy: usize): void {
  for (let n = n0; n < n1; n++) {
    for (let m = 0; m < M; m++) {
      const x = X + <usize>m * <usize>K * 4;
      let s: f32 = 0;
      for (let k = 0; k < K; k++) s += load<f32>(x + (<usize>k << 2)) * decodeAt(w, n, k) * scaleAt(w, n, k);
      store<f32>(Y + <usize>m * ldy + (<usize>n << 2), s);
    }
  }
}

/**
 * Job params: 0 kind, 1 M, 2 N, 3 K, 4 Xp (from prepX), 5 W (tiled when vectorised, else
 * row-major), 6 scales, 7 blockRows, 8 blockCols, 9 Y, 10 ldy (elements), 11 rows of W per chunk
 * (a multiple of 8), 12 X prescaled (fp8).
 */
export function qmvChunk(chunk: i32, scratch: usize): void {
  const kind = pi(0), M = pi(1), N = pi(2), K = pi(3);
  const Xp = pp(4), Y = pp(9), ldy = <usize>pi(10) * 4, per = pi(11), prescaled = pi(12) != 0;
  const vec = qmvVectorised(kind, pi(8));
  const w = changetype<WeightDesc>(scratch);
  w.init(kind, pp(5), K, pp(6), pi(7), pi(8), vec);
  const n0 = chunk * per, n1 = min(N, n0 + per);
  if (!vec) {
    qmvScalar(M, K, Xp, w, n0, n1, Y, ldy);
    return;
  }
  const C = chunksPerRow(kind, K), ldx = <usize>paddedK(kind, K) * 4;
  if (kind == W_BF16) qmvBf16(M, C, Xp, ldx, w.data, n0, n1, Y, ldy);
  else if (kind == W_F16) qmvF16(M, C, Xp, ldx, w.data, n0, n1, Y, ldy);
  else if (kind == W_I8) qmvI8(M, C, Xp, ldx, w, n0, n1, Y, ldy);
  else if (kind == W_E4M3) {
    if (prescaled) qmvE4m3Prescaled(M, C, Xp, ldx, w, n0, n1, Y, ldy);
    else qmvE4m3(M, C, Xp, ldx, w, n0, n1, Y, ldy);
  } else if (prescaled) qmvE5m2Prescaled(M, C, Xp, ldx, w, n0, n1, Y, ldy);
  else qmvE5m2(M, C, Xp, ldx, w, n0, n1, Y, ldy);
}
