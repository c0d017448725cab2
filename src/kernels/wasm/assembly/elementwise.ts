// Row-wise and elementwise kernels: RMSNorm, SwiGLU gate, softmax, softmax cross-entropy.
// All are safe in place (out may alias the input): each row is read fully before it is written.
import { fma, hsum, hmax, vexp, sexp } from './simd';
import { pi, pp, pf } from './layout';

/** Params: 0 x, 1 weight, 2 out, 3 rstd (0: none), 4 rows, 5 dim, 6 rows per chunk; f32 0 eps. */
export function rmsNormChunk(chunk: i32): void {
  const x = pp(0),
    w = pp(1),
    out = pp(2),
    rstd = pp(3),
    rows = pi(4),
    dim = pi(5),
    per = pi(6);
  const eps = pf(0);
  const D4 = dim & ~3;
  for (let r = chunk * per, r1 = min(rows, r + per); r < r1; r++) {
    const xr = x + <usize>r * <usize>dim * 4,
      orow = out + <usize>r * <usize>dim * 4;
    let acc = f32x4.splat(0);
    for (let i = 0; i < D4; i += 4) {
      const v = v128.load(xr + ((<usize>i) << 2));
      acc = fma(v, v, acc);
    }
    let ss = hsum(acc);
    for (let i = D4; i < dim; i++) {
      const v = load<f32>(xr + ((<usize>i) << 2));
      ss += v * v;
    }
    const rs = <f32>(1 / Math.sqrt(<f64>ss / <f64>dim + <f64>eps));
    if (rstd) store<f32>(rstd + ((<usize>r) << 2), rs);
    const vr = f32x4.splat(rs);
    for (let i = 0; i < D4; i += 4) {
      const o = (<usize>i) << 2;
      v128.store(orow + o, f32x4.mul(f32x4.mul(v128.load(xr + o), vr), v128.load(w + o)));
    }
    for (let i = D4; i < dim; i++) {
      const o = (<usize>i) << 2;
      store<f32>(orow + o, load<f32>(xr + o) * rs * load<f32>(w + o));
    }
  }
}

/** Params: 0 gate, 1 up, 2 out, 3 n, 4 elements per chunk. out = g·u / (1 + e^−g). */
export function siluMulChunk(chunk: i32): void {
  const g = pp(0),
    u = pp(1),
    out = pp(2),
    n = pi(3),
    per = pi(4);
  const i0 = chunk * per,
    i1 = min(n, i0 + per);
  let i = i0;
  const one = f32x4.splat(1);
  for (; i + 4 <= i1; i += 4) {
    const o = (<usize>i) << 2;
    const gv = v128.load(g + o);
    const e = vexp(f32x4.neg(gv));
    v128.store(out + o, f32x4.div(f32x4.mul(gv, v128.load(u + o)), f32x4.add(one, e)));
  }
  for (; i < i1; i++) {
    const o = (<usize>i) << 2;
    const gv = load<f32>(g + o);
    store<f32>(out + o, (gv * load<f32>(u + o)) / (1 + sexp(-gv)));
  }
}

/** Max over a row of n floats. */
function rowMax(x: usize, n: i32): f32 {
  const n4 = n & ~3;
  let m: f32 = -Infinity;
  if (n4 > 0) {
    let mv = v128.load(x);
    for (let i = 4; i < n4; i += 4) mv = f32x4.max(mv, v128.load(x + ((<usize>i) << 2)));
    m = hmax(mv);
  }
  for (let i = n4; i < n; i++) m = max(m, load<f32>(x + ((<usize>i) << 2)));
  return m;
}

/** dst[i] = e^(x[i] − shift) · mul; returns the sum of e^(x[i] − shift). */
function expRow(x: usize, dst: usize, n: i32, shift: f32, mul: f32): f32 {
  const n4 = n & ~3;
  const sv = f32x4.splat(shift),
    mv = f32x4.splat(mul);
  let acc = f32x4.splat(0);
  for (let i = 0; i < n4; i += 4) {
    const o = (<usize>i) << 2;
    const e = vexp(f32x4.sub(v128.load(x + o), sv));
    acc = f32x4.add(acc, e);
    v128.store(dst + o, f32x4.mul(e, mv));
  }
  let s = hsum(acc);
  for (let i = n4; i < n; i++) {
    const o = (<usize>i) << 2;
    const e = sexp(load<f32>(x + o) - shift);
    s += e;
    store<f32>(dst + o, e * mul);
  }
  return s;
}

/** dst[i] *= s. */
function scaleRow(dst: usize, n: i32, s: f32): void {
  const n4 = n & ~3;
  const v = f32x4.splat(s);
  for (let i = 0; i < n4; i += 4) v128.store(dst + ((<usize>i) << 2), f32x4.mul(v128.load(dst + ((<usize>i) << 2)), v));
  for (let i = n4; i < n; i++) store<f32>(dst + ((<usize>i) << 2), load<f32>(dst + ((<usize>i) << 2)) * s);
}

/** Params: 0 x, 1 out, 2 rows, 3 cols, 4 rows per chunk. */
export function softmaxChunk(chunk: i32): void {
  const x = pp(0),
    out = pp(1),
    rows = pi(2),
    cols = pi(3),
    per = pi(4);
  for (let r = chunk * per, r1 = min(rows, r + per); r < r1; r++) {
    const xr = x + <usize>r * <usize>cols * 4,
      orow = out + <usize>r * <usize>cols * 4;
    const m = rowMax(xr, cols);
    const s = expRow(xr, orow, cols, m, 1);
    scaleRow(orow, cols, 1 / s);
  }
}

/**
 * Params: 0 logits, 1 targets (i32), 2 dLogits (0: none), 3 rows, 4 vocab, 5 ignoreIndex,
 * 6 rows per chunk, 7 per-row loss out (f64, 0 for ignored rows); f32 0 gradScale.
 * Targets are validated by the caller.
 */
export function crossEntropyChunk(chunk: i32): void {
  const x = pp(0),
    targets = pp(1),
    d = pp(2),
    rows = pi(3),
    V = pi(4),
    ignore = pi(5),
    per = pi(6),
    lossOut = pp(7);
  const gs = pf(0);
  for (let r = chunk * per, r1 = min(rows, r + per); r < r1; r++) {
    const xr = x + <usize>r * <usize>V * 4;
    const t = load<i32>(targets + ((<usize>r) << 2));
    if (t == ignore) {
      store<f64>(lossOut + ((<usize>r) << 3), 0);
      if (d) memory.fill(d + <usize>r * <usize>V * 4, 0, <usize>V * 4);
      continue;
    }
    const m = rowMax(xr, V);
    let s: f32;
    if (d) {
      // exp(x − m) goes to dLogits, then is rescaled to softmax · gradScale.
      const dr = d + <usize>r * <usize>V * 4;
      s = expRow(xr, dr, V, m, 1);
      scaleRow(dr, V, gs / s);
      const p = dr + ((<usize>t) << 2);
      store<f32>(p, load<f32>(p) - gs);
    } else {
      const n4 = V & ~3;
      const mv = f32x4.splat(m);
      let acc = f32x4.splat(0);
      for (let i = 0; i < n4; i += 4) acc = f32x4.add(acc, vexp(f32x4.sub(v128.load(xr + ((<usize>i) << 2)), mv)));
      s = hsum(acc);
      for (let i = n4; i < V; i++) s += sexp(load<f32>(xr + ((<usize>i) << 2)) - m);
    }
    const lse = <f64>m + Math.log(<f64>s);
    store<f64>(lossOut + ((<usize>r) << 3), lse - <f64>load<f32>(xr + ((<usize>t) << 2)));
  }
}
