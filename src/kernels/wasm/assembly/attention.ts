// Flash-style attention on one thread per chunk: key tiles with an online softmax (forward) and
// FlashAttention-2's recompute-from-lse backward. Nothing of size Tq×Tk is ever stored.
import { fma, hsum, vexp, sexp } from './simd';
import { pi, pp, pf } from './layout';

/** Keys per tile in the forward pass (scores of one query against one tile live in scratch). */
const KT = 64;
/** Keys per tile in the backward pass (dK, dV of the tile accumulate in scratch). */
const KB = 16;

function dot(a: usize, b: usize, D: i32): f32 {
  const D4 = D & ~3;
  let acc = f32x4.splat(0);
  for (let d = 0; d < D4; d += 4) acc = fma(v128.load(a + (<usize>d << 2)), v128.load(b + (<usize>d << 2)), acc);
  let s = hsum(acc);
  for (let d = D4; d < D; d++) s += load<f32>(a + (<usize>d << 2)) * load<f32>(b + (<usize>d << 2));
  return s;
}

/** out[0..n) = mul · (a · rows[j]) for n rows of length D (row stride D), four rows at a time. */
function dots(a: usize, rows: usize, n: i32, D: i32, mul: f32, out: usize): void {
  const D4 = D & ~3, stride = <usize>D * 4;
  let j = 0;
  for (; j + 4 <= n; j += 4) {
    const r0 = rows + <usize>j * stride, r1 = r0 + stride, r2 = r1 + stride, r3 = r2 + stride;
    let s0 = f32x4.splat(0), s1 = f32x4.splat(0), s2 = f32x4.splat(0), s3 = f32x4.splat(0);
    for (let d = 0; d < D4; d += 4) {
      const o = <usize>d << 2;
      const av = v128.load(a + o);
      s0 = fma(av, v128.load(r0 + o), s0);
      s1 = fma(av, v128.load(r1 + o), s1);
      s2 = fma(av, v128.load(r2 + o), s2);
      s3 = fma(av, v128.load(r3 + o), s3);
    }
    let t0 = hsum(s0), t1 = hsum(s1), t2 = hsum(s2), t3 = hsum(s3);
    for (let d = D4; d < D; d++) {
      const o = <usize>d << 2;
      const av = load<f32>(a + o);
      t0 += av * load<f32>(r0 + o);
      t1 += av * load<f32>(r1 + o);
      t2 += av * load<f32>(r2 + o);
      t3 += av * load<f32>(r3 + o);
    }
    store<f32>(out + (<usize>j << 2), t0 * mul);
    store<f32>(out + (<usize>j << 2), t1 * mul, 4);
    store<f32>(out + (<usize>j << 2), t2 * mul, 8);
    store<f32>(out + (<usize>j << 2), t3 * mul, 12);
  }
  for (; j < n; j++) store<f32>(out + (<usize>j << 2), dot(a, rows + <usize>j * stride, D) * mul);
}

/** y[0..D) = y·c + Σ_j p[j]·rows[j] over n rows (row stride D). */
function accumulateRows(y: usize, c: f32, p: usize, rows: usize, n: i32, D: i32): void {
  const D4 = D & ~3, stride = <usize>D * 4;
  const cv = f32x4.splat(c);
  for (let d = 0; d < D4; d += 4) {
    const o = <usize>d << 2;
    let acc = f32x4.mul(v128.load(y + o), cv);
    let r = rows + o;
    for (let j = 0; j < n; j++) {
      acc = fma(v128.load32_splat(p + (<usize>j << 2)), v128.load(r), acc);
      r += stride;
    }
    v128.store(y + o, acc);
  }
  for (let d = D4; d < D; d++) {
    const o = <usize>d << 2;
    let acc = load<f32>(y + o) * c;
    for (let j = 0; j < n; j++) acc += load<f32>(p + (<usize>j << 2)) * load<f32>(rows + <usize>j * stride + o);
    store<f32>(y + o, acc);
  }
}

/** y[0..D) += s · x[0..D). */
function axpy(y: usize, s: f32, x: usize, D: i32): void {
  const D4 = D & ~3;
  const sv = f32x4.splat(s);
  for (let d = 0; d < D4; d += 4) {
    const o = <usize>d << 2;
    v128.store(y + o, fma(sv, v128.load(x + o), v128.load(y + o)));
  }
  for (let d = D4; d < D; d++) {
    const o = <usize>d << 2;
    store<f32>(y + o, load<f32>(y + o) + s * load<f32>(x + o));
  }
}

/** p[j] = e^(s[j] − shift) for j < n, padded with zeros to a multiple of 4; returns Σ p. */
function expScores(s: usize, n: i32, shift: f32): f32 {
  const n4 = (n + 3) & ~3;
  for (let j = n; j < n4; j++) store<f32>(s + (<usize>j << 2), -Infinity);
  const sv = f32x4.splat(shift);
  let acc = f32x4.splat(0);
  for (let j = 0; j < n4; j += 4) {
    const o = <usize>j << 2;
    const e = vexp(f32x4.sub(v128.load(s + o), sv));
    v128.store(s + o, e);
    acc = f32x4.add(acc, e);
  }
  return hsum(acc);
}

/** Last key (inclusive) query i may see; −1 when none. */
// @ts-ignore: decorator
@inline function lastKey(i: i32, Tq: i32, Tk: i32, causal: bool): i32 {
  return causal ? min(Tk - 1, i + Tk - Tq) : Tk - 1;
}

/**
 * Forward. Params: 0 B, 1 H, 2 Hkv, 3 Tq, 4 Tk, 5 Dk, 6 Dv, 7 causal, 8 q, 9 k, 10 v, 11 out,
 * 12 lse, 13 queries per chunk; f32 0 scale. Chunk = (b, h, block of queries).
 * Scratch: Dv floats of accumulator, then KT + 4 scores.
 */
export function attentionChunk(chunk: i32, scratch: usize): void {
  const H = pi(1), Hkv = pi(2), Tq = pi(3), Tk = pi(4), Dk = pi(5), Dv = pi(6), causal = pi(7) != 0;
  const q = pp(8), k = pp(9), v = pp(10), out = pp(11), lse = pp(12), QB = pi(13);
  const scale = pf(0);
  const nqb = (Tq + QB - 1) / QB;
  const bh = chunk / nqb, i0 = (chunk % nqb) * QB;
  const b = bh / H, h = bh % H, kvh = h / (H / Hkv);
  const kBase = k + <usize>(b * Hkv + kvh) * <usize>Tk * <usize>Dk * 4;
  const vBase = v + <usize>(b * Hkv + kvh) * <usize>Tk * <usize>Dv * 4;
  const acc = scratch, s = scratch + ((<usize>Dv * 4 + 15) & ~15);
  for (let i = i0, i1 = min(Tq, i0 + QB); i < i1; i++) {
    const row = <usize>bh * <usize>Tq + <usize>i;
    const qi = q + row * <usize>Dk * 4;
    const last = lastKey(i, Tq, Tk, causal);
    let m: f32 = -Infinity, l: f32 = 0;
    memory.fill(acc, 0, <usize>Dv * 4);
    for (let j0 = 0; j0 <= last; j0 += KT) {
      const n = min(KT, last + 1 - j0);
      dots(qi, kBase + <usize>j0 * <usize>Dk * 4, n, Dk, scale, s);
      let tileMax: f32 = -Infinity;
      for (let j = 0; j < n; j++) tileMax = max(tileMax, load<f32>(s + (<usize>j << 2)));
      const mNew = max(m, tileMax);
      // Rescale what was accumulated under the old max (e^−∞ = 0 on the first tile).
      const corr = sexp(m - mNew);
      l = l * corr + expScores(s, n, mNew);
      accumulateRows(acc, corr, s, vBase + <usize>j0 * <usize>Dv * 4, n, Dv);
      m = mNew;
    }
    const o = out + row * <usize>Dv * 4;
    const inv: f32 = l > 0 ? 1 / l : 0;
    for (let d = 0; d < Dv; d++) store<f32>(o + (<usize>d << 2), load<f32>(acc + (<usize>d << 2)) * inv);
    store<f32>(lse + (row << 2), l > 0 ? <f32>(<f64>m + Math.log(<f64>l)) : -Infinity);
  }
}

/**
 * Backward. Params as forward plus 13 dOut, 14 dq, 15 dk, 16 dv; f32 0 scale.
 * Chunk = (b, kv head): it owns dK, dV of that head and dQ of the heads reading it, so chunks
 * never write the same memory. Scratch: group·Tq floats of D, then KB×Dk dK tile, KB×Dv dV
 * tile, and three KB-float rows (p, dp, ds).
 */
export function attentionBackwardChunk(chunk: i32, scratch: usize): void {
  const H = pi(1), Hkv = pi(2), Tq = pi(3), Tk = pi(4), Dk = pi(5), Dv = pi(6), causal = pi(7) != 0;
  const q = pp(8), k = pp(9), v = pp(10), out = pp(11), lse = pp(12);
  const dOut = pp(13), dq = pp(14), dk = pp(15), dv = pp(16);
  const scale = pf(0);
  const b = chunk / Hkv, kvh = chunk % Hkv, group = H / Hkv;
  const h0 = kvh * group;
  const rowK = <usize>Dk * 4, rowV = <usize>Dv * 4;
  const kvRow0 = <usize>(b * Hkv + kvh) * <usize>Tk;
  const qRow0 = <usize>(b * H + h0) * <usize>Tq; // first query row of the group
  const Dsum = scratch;
  const dkT = Dsum + ((<usize>group * <usize>Tq * 4 + 15) & ~15);
  const dvT = dkT + <usize>KB * rowK;
  const p = dvT + <usize>KB * rowV, dp = p + <usize>(KB + 4) * 4, ds = dp + <usize>(KB + 4) * 4;

  memory.fill(dq + qRow0 * rowK, 0, <usize>group * <usize>Tq * rowK);
  for (let r: usize = 0; r < <usize>group * <usize>Tq; r++) {
    store<f32>(Dsum + (r << 2), dot(dOut + (qRow0 + r) * rowV, out + (qRow0 + r) * rowV, Dv));
  }
  for (let j0 = 0; j0 < Tk; j0 += KB) {
    const j1 = min(Tk, j0 + KB);
    memory.fill(dkT, 0, <usize>KB * rowK);
    memory.fill(dvT, 0, <usize>KB * rowV);
    const kT = k + (kvRow0 + <usize>j0) * rowK, vT = v + (kvRow0 + <usize>j0) * rowV;
    // The first query that sees key j0 (causal: i + Tk − Tq ≥ j0).
    const iStart = causal ? max(0, j0 - (Tk - Tq)) : 0;
    for (let g = 0; g < group; g++) {
      for (let i = iStart; i < Tq; i++) {
        const row = qRow0 + <usize>g * <usize>Tq + <usize>i;
        const n = min(j1, lastKey(i, Tq, Tk, causal) + 1) - j0;
        const qi = q + row * rowK, gi = dOut + row * rowV, dqi = dq + row * rowK;
        dots(qi, kT, n, Dk, scale, p);
        expScores(p, n, load<f32>(lse + (row << 2)));
        dots(gi, vT, n, Dv, 1, dp);
        const Di = load<f32>(Dsum + ((<usize>g * <usize>Tq + <usize>i) << 2));
        for (let j = 0; j < n; j++) {
          const pj = load<f32>(p + (<usize>j << 2));
          const dsj = pj * (load<f32>(dp + (<usize>j << 2)) - Di) * scale;
          store<f32>(ds + (<usize>j << 2), dsj);
          axpy(dvT + <usize>j * rowV, pj, gi, Dv);
          axpy(dkT + <usize>j * rowK, dsj, qi, Dk);
        }
        accumulateRows(dqi, 1, ds, kT, n, Dk);
      }
    }
    memory.copy(dk + (kvRow0 + <usize>j0) * rowK, dkT, <usize>(j1 - j0) * rowK);
    memory.copy(dv + (kvRow0 + <usize>j0) * rowV, dvT, <usize>(j1 - j0) * rowV);
  }
}
