/**
 * Elementwise arithmetic with NumPy broadcasting, and the pointwise functions of the models
 * (exp, log, sqrt, rsqrt, sigmoid, SiLU, ...), each with its backward beside its forward.
 */
import { Tensor } from '../tensor.ts';
import { record } from '../autograd.ts';
import { promote } from '../dtype.ts';
import { broadcastShapes, numel, sameShape } from '../shape.ts';
import { allocFloat, broadcastStrides, floatData } from './strided.ts';
import { sumTo } from './reduce.ts';

export type Operand = Tensor | number;

function asTensor(x: Operand, like: Tensor): Tensor {
  return typeof x === 'number' ? Tensor.from([x], [], like.dtype === 'f64' ? 'f64' : 'f32') : x;
}

type BinaryOp = 'add' | 'sub' | 'mul' | 'div';

/**
 * Tight loops for the four arithmetic ops over contiguous operands: y is either as long as x, or one
 * row of length `period` repeated (trailing-axes broadcasting, e.g. a bias). A closure per element
 * would be megamorphic in V8 and several times slower on the training hot path.
 */
function arith(op: BinaryOp, x: ArrayLike<number>, y: ArrayLike<number>, out: Float32Array | Float64Array, period: number): void {
  const n = out.length;
  if (period === n) {
    switch (op) {
      case 'add':
        for (let i = 0; i < n; i++) out[i] = x[i]! + y[i]!;
        return;
      case 'sub':
        for (let i = 0; i < n; i++) out[i] = x[i]! - y[i]!;
        return;
      case 'mul':
        for (let i = 0; i < n; i++) out[i] = x[i]! * y[i]!;
        return;
      case 'div':
        for (let i = 0; i < n; i++) out[i] = x[i]! / y[i]!;
        return;
    }
  }
  for (let base = 0; base < n; base += period) {
    switch (op) {
      case 'add':
        for (let j = 0; j < period; j++) out[base + j] = x[base + j]! + y[j]!;
        break;
      case 'sub':
        for (let j = 0; j < period; j++) out[base + j] = x[base + j]! - y[j]!;
        break;
      case 'mul':
        for (let j = 0; j < period; j++) out[base + j] = x[base + j]! * y[j]!;
        break;
      case 'div':
        for (let j = 0; j < period; j++) out[base + j] = x[base + j]! / y[j]!;
        break;
    }
  }
}

/** True when b broadcasts to a only along leading axes (b's shape is a suffix of a's, up to 1s in front). */
function isTrailingBroadcast(a: Tensor, b: Tensor): boolean {
  let i = a.rank - 1;
  let j = b.rank - 1;
  for (; j >= 0; i--, j--) if (i < 0 || a.shape[i] !== b.shape[j]) break;
  for (; j >= 0; j--) if (b.shape[j] !== 1) return false;
  return true;
}

/** Applies f over the broadcast of a and b (op names the fast path for arithmetic). */
function zipWith(a: Tensor, b: Tensor, f: (x: number, y: number) => number, op?: BinaryOp): Tensor {
  const dtype = promote(a.dtype, b.dtype);
  if ((op === 'add' || op === 'mul') && a.size < b.size) return zipWith(b, a, f, op);
  if (op && b.size <= a.size && isTrailingBroadcast(a, b)) {
    const out = allocFloat(dtype, a.size);
    arith(op, floatData(a), floatData(b), out, Math.max(b.size, 1));
    return new Tensor(out, a.shape, dtype);
  }
  if (sameShape(a.shape, b.shape)) {
    const x = floatData(a);
    const y = floatData(b);
    const out = allocFloat(dtype, x.length);
    for (let i = 0; i < out.length; i++) out[i] = f(x[i]!, y[i]!);
    return new Tensor(out, a.shape, dtype);
  }
  const shape = broadcastShapes(a.shape, b.shape);
  if (a.dtype !== 'f32' && a.dtype !== 'f64') floatData(a);
  if (b.dtype !== 'f32' && b.dtype !== 'f64') floatData(b);
  const sa = broadcastStrides(a.shape, a.strides, shape);
  const sb = broadcastStrides(b.shape, b.strides, shape);
  const n = numel(shape);
  const out = allocFloat(dtype, n);
  const rank = shape.length;
  const inner = shape[rank - 1]!;
  const ia = sa[rank - 1]!;
  const ib = sb[rank - 1]!;
  const idx = new Array<number>(rank).fill(0);
  const ad = a.data;
  const bd = b.data;
  let pa = a.offset;
  let pb = b.offset;
  let o = 0;
  for (let row = 0; row < n / inner; row++) {
    switch (op) {
      case 'add':
        for (let j = 0, qa = pa, qb = pb; j < inner; j++, qa += ia, qb += ib) out[o++] = (ad[qa] as number) + (bd[qb] as number);
        break;
      case 'sub':
        for (let j = 0, qa = pa, qb = pb; j < inner; j++, qa += ia, qb += ib) out[o++] = (ad[qa] as number) - (bd[qb] as number);
        break;
      case 'mul':
        for (let j = 0, qa = pa, qb = pb; j < inner; j++, qa += ia, qb += ib) out[o++] = (ad[qa] as number) * (bd[qb] as number);
        break;
      case 'div':
        for (let j = 0, qa = pa, qb = pb; j < inner; j++, qa += ia, qb += ib) out[o++] = (ad[qa] as number) / (bd[qb] as number);
        break;
      default:
        for (let j = 0, qa = pa, qb = pb; j < inner; j++, qa += ia, qb += ib) out[o++] = f(ad[qa] as number, bd[qb] as number);
    }
    for (let d = rank - 2; d >= 0; d--) {
      idx[d]!++;
      pa += sa[d]!;
      pb += sb[d]!;
      if (idx[d]! < shape[d]!) break;
      pa -= sa[d]! * shape[d]!;
      pb -= sb[d]! * shape[d]!;
      idx[d] = 0;
    }
  }
  return new Tensor(out, shape, dtype);
}

/** Applies f to every element. */
export function map(a: Tensor, f: (x: number) => number): Tensor {
  const x = floatData(a);
  const out = allocFloat(a.dtype, x.length);
  for (let i = 0; i < out.length; i++) out[i] = f(x[i]!);
  return new Tensor(out, a.shape, a.dtype === 'f64' ? 'f64' : 'f32');
}

export function add(a: Operand, b: Operand): Tensor {
  if (typeof a === 'number') return add(b, a);
  const B = asTensor(b, a);
  const out = zipWith(a, B, (x, y) => x + y, 'add');
  return record(out, 'add', [a, B], (g) => [sumTo(g, a.shape), sumTo(g, B.shape)]);
}

export function sub(a: Operand, b: Operand): Tensor {
  if (typeof a === 'number') return add(neg(b as Tensor), a);
  const B = asTensor(b, a);
  const out = zipWith(a, B, (x, y) => x - y, 'sub');
  return record(out, 'sub', [a, B], (g) => [sumTo(g, a.shape), sumTo(neg(g), B.shape)]);
}

export function mul(a: Operand, b: Operand): Tensor {
  if (typeof a === 'number') return mul(b, a);
  const B = asTensor(b, a);
  const out = zipWith(a, B, (x, y) => x * y, 'mul');
  return record(out, 'mul', [a, B], (g) => [
    a.requiresGrad ? sumTo(mul(g, B), a.shape) : null,
    B.requiresGrad ? sumTo(mul(g, a), B.shape) : null,
  ]);
}

export function div(a: Operand, b: Operand): Tensor {
  if (typeof a === 'number') return mul(reciprocal(b as Tensor), a);
  const B = asTensor(b, a);
  const out = zipWith(a, B, (x, y) => x / y, 'div');
  return record(out, 'div', [a, B], (g) => [
    a.requiresGrad ? sumTo(div(g, B), a.shape) : null,
    B.requiresGrad ? sumTo(neg(div(mul(g, out), B)), B.shape) : null,
  ]);
}

export function neg(a: Tensor): Tensor {
  return record(
    map(a, (x) => -x),
    'neg',
    [a],
    (g) => [neg(g)],
  );
}

export function reciprocal(a: Tensor): Tensor {
  const out = map(a, (x) => 1 / x);
  return record(out, 'reciprocal', [a], (g) => [neg(mul(g, mul(out, out)))]);
}

export function exp(a: Tensor): Tensor {
  const out = map(a, Math.exp);
  return record(out, 'exp', [a], (g) => [mul(g, out)]);
}

export function log(a: Tensor): Tensor {
  return record(map(a, Math.log), 'log', [a], (g) => [div(g, a)]);
}

export function sqrt(a: Tensor): Tensor {
  const out = map(a, Math.sqrt);
  return record(out, 'sqrt', [a], (g) => [div(mul(g, 0.5), out)]);
}

/** 1/√x; backward −½·x^(−3/2) = −½·out³. */
export function rsqrt(a: Tensor): Tensor {
  const out = map(a, (x) => 1 / Math.sqrt(x));
  return record(out, 'rsqrt', [a], (g) => [
    mul(
      g,
      map(out, (y) => -0.5 * y * y * y),
    ),
  ]);
}

export function square(a: Tensor): Tensor {
  return record(
    map(a, (x) => x * x),
    'square',
    [a],
    (g) => [mul(g, mul(a, 2))],
  );
}

/** x^p for a constant exponent. */
export function pow(a: Tensor, p: number): Tensor {
  return record(
    map(a, (x) => Math.pow(x, p)),
    'pow',
    [a],
    (g) => [
      mul(
        g,
        map(a, (x) => p * Math.pow(x, p - 1)),
      ),
    ],
  );
}

export function sigmoid(a: Tensor): Tensor {
  const out = map(a, (x) => 1 / (1 + Math.exp(-x)));
  return record(out, 'sigmoid', [a], (g) => [
    mul(
      g,
      map(out, (s) => s * (1 - s)),
    ),
  ]);
}

/** SiLU (swish): x·σ(x); derivative σ(x)·(1 + x·(1 − σ(x))). */
export function silu(a: Tensor): Tensor {
  const out = map(a, (x) => x / (1 + Math.exp(-x)));
  return record(out, 'silu', [a], (g) => [
    mul(
      g,
      map(a, (x) => {
        const s = 1 / (1 + Math.exp(-x));
        return s * (1 + x * (1 - s));
      }),
    ),
  ]);
}

export function tanh(a: Tensor): Tensor {
  const out = map(a, Math.tanh);
  return record(out, 'tanh', [a], (g) => [
    mul(
      g,
      map(out, (y) => 1 - y * y),
    ),
  ]);
}

export function relu(a: Tensor): Tensor {
  return record(
    map(a, (x) => (x > 0 ? x : 0)),
    'relu',
    [a],
    (g) => [
      mul(
        g,
        map(a, (x) => (x > 0 ? 1 : 0)),
      ),
    ],
  );
}

/** Elementwise a where cond ≠ 0 else b (cond is not differentiated). */
export function where(cond: Tensor, a: Tensor, b: Tensor): Tensor {
  const sel = (c: Tensor, x: Tensor, y: Tensor) => add(mul(c, x), mul(sub(1, c), y));
  return sel(
    map(cond, (c) => (c !== 0 ? 1 : 0)),
    a,
    b,
  );
}
