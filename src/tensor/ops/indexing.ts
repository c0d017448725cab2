/**
 * Indexing ops: embedding lookup, row selection and index-add (MoE dispatch and combine),
 * gather/scatter-add along an axis, and top-k (values differentiable, indices not).
 */
import { Tensor } from '../tensor.ts';
import { record } from '../autograd.ts';
import { formatShape, normAxis } from '../shape.ts';
import { allocFloat, floatData, rowMajor } from './strided.ts';
import { cast } from './cast.ts';
import { contiguous, transpose } from './view.ts';

function indices(idx: Tensor | Int32Array): Int32Array {
  if (idx instanceof Int32Array) return idx;
  if (idx.dtype !== 'i32') throw new Error(`indices must be i32, got ${idx.dtype}`);
  return rowMajor(idx) as Int32Array;
}

function checkRange(ix: Int32Array, n: number, what: string): void {
  for (const i of ix) if (i < 0 || i >= n) throw new Error(`${what}: index ${i} out of range [0, ${n})`);
}

/** Rows `ids` of a [V, D] table → [...ids.shape, D]. Narrow-dtype tables decode only the rows used. */
export function embedding(weight: Tensor, ids: Tensor): Tensor {
  const V = weight.shape[0]!;
  const D = weight.shape[1]!;
  const ix = indices(ids);
  checkRange(ix, V, 'embedding');
  const w = weight.dtype === 'f32' || weight.dtype === 'f64' ? weight : null;
  const out = allocFloat(w ? w.dtype : 'f32', ix.length * D);
  if (w) {
    const wd = floatData(w);
    for (let i = 0; i < ix.length; i++) out.set(wd.subarray(ix[i]! * D, ix[i]! * D + D), i * D);
  } else {
    for (let i = 0; i < ix.length; i++) {
      const row = cast(rowOf(weight, ix[i]!), 'f32');
      out.set(floatData(row), i * D);
    }
  }
  const y = new Tensor(out, [...ids.shape, D], w ? w.dtype : 'f32');
  return record(y, 'embedding', [weight], (g) => {
    const gd = floatData(g);
    const dw = allocFloat(g.dtype, V * D);
    for (let i = 0; i < ix.length; i++) {
      const o = ix[i]! * D;
      for (let j = 0; j < D; j++) dw[o + j] += gd[i * D + j]!;
    }
    return [new Tensor(dw, weight.shape, g.dtype === 'f64' ? 'f64' : 'f32')];
  });
}

function rowOf(t: Tensor, r: number): Tensor {
  const c = contiguous(t);
  const D = t.shape[1]!;
  const v = new Tensor(c.data, [D], t.dtype, [1], c.offset + r * D);
  return v;
}

/** Rows of x [N, ...] at `idx` → [idx.length, ...] (the tokens routed to one expert). */
export function indexSelect(x: Tensor, idx: Tensor | Int32Array): Tensor {
  const ix = indices(idx);
  const N = x.shape[0]!;
  checkRange(ix, N, 'indexSelect');
  const inner = x.size / Math.max(N, 1);
  const xd = floatData(x);
  const out = allocFloat(x.dtype, ix.length * inner);
  for (let i = 0; i < ix.length; i++) out.set(xd.subarray(ix[i]! * inner, (ix[i]! + 1) * inner), i * inner);
  const y = new Tensor(out, [ix.length, ...x.shape.slice(1)], x.dtype === 'f64' ? 'f64' : 'f32');
  return record(y, 'indexSelect', [x], (g) => [indexAdd(Tensor.zeros(x.shape, g.dtype), ix, g)]);
}

/** target + src scattered into rows `idx` (repeated rows add up); out of place. */
export function indexAdd(target: Tensor, idx: Tensor | Int32Array, src: Tensor): Tensor {
  const ix = indices(idx);
  const N = target.shape[0]!;
  checkRange(ix, N, 'indexAdd');
  const inner = target.size / Math.max(N, 1);
  if (src.shape[0] !== ix.length || src.size !== ix.length * inner) {
    throw new Error(`indexAdd: source ${formatShape(src.shape)} does not fit ${ix.length} rows of ${formatShape(target.shape)}`);
  }
  const dtype = target.dtype === 'f64' || src.dtype === 'f64' ? 'f64' : 'f32';
  const out = allocFloat(dtype, target.size);
  out.set(floatData(target.dtype === dtype ? target : cast(target, dtype)));
  const sd = floatData(src);
  for (let i = 0; i < ix.length; i++) {
    const o = ix[i]! * inner;
    for (let j = 0; j < inner; j++) out[o + j] += sd[i * inner + j]!;
  }
  const y = new Tensor(out, target.shape, dtype);
  return record(y, 'indexAdd', [target, src], (g) => [g, indexSelect(g, ix)]);
}

/** torch.gather: out[..., j] = x[..., index[..., j]] along `axis` (index has x's rank). */
export function gather(x: Tensor, axis: number, index: Tensor): Tensor {
  const ax = normAxis(axis, x.rank);
  if (ax !== x.rank - 1) return transpose(gather(transpose(x, ax, -1), -1, transpose(index, ax, -1)), ax, -1);
  const C = x.shape[ax]!;
  const K = index.shape[ax]!;
  const rows = index.size / K;
  if (x.size / C !== rows) throw new Error(`gather: index ${formatShape(index.shape)} does not fit ${formatShape(x.shape)}`);
  const ix = indices(index);
  checkRange(ix, C, 'gather');
  const xd = floatData(x);
  const out = allocFloat(x.dtype, rows * K);
  for (let r = 0; r < rows; r++) for (let j = 0; j < K; j++) out[r * K + j] = xd[r * C + ix[r * K + j]!]!;
  const y = new Tensor(out, index.shape, x.dtype === 'f64' ? 'f64' : 'f32');
  return record(y, 'gather', [x], (g) => [scatterAdd(Tensor.zeros(x.shape, g.dtype), -1, index, g)]);
}

/** Out-of-place torch.scatter_add along `axis`: out = x; out[..., index[..., j]] += src[..., j]. */
export function scatterAdd(x: Tensor, axis: number, index: Tensor, src: Tensor): Tensor {
  const ax = normAxis(axis, x.rank);
  if (ax !== x.rank - 1) {
    return transpose(scatterAdd(transpose(x, ax, -1), -1, transpose(index, ax, -1), transpose(src, ax, -1)), ax, -1);
  }
  const C = x.shape[ax]!;
  const K = index.shape[ax]!;
  const rows = index.size / K;
  const ix = indices(index);
  checkRange(ix, C, 'scatterAdd');
  const dtype = x.dtype === 'f64' || src.dtype === 'f64' ? 'f64' : 'f32';
  const out = allocFloat(dtype, x.size);
  out.set(floatData(x.dtype === dtype ? x : cast(x, dtype)));
  const sd = floatData(src);
  for (let r = 0; r < rows; r++) for (let j = 0; j < K; j++) out[r * C + ix[r * K + j]!] += sd[r * K + j]!;
  const y = new Tensor(out, x.shape, dtype);
  return record(y, 'scatterAdd', [x, src], (g) => [g, gather(g, -1, index)]);
}

/**
 * The k largest entries along the last axis, in descending order (ties: lower index first).
 * Values carry gradients (through gather); indices are i32 and do not.
 */
export function topk(x: Tensor, k: number): { values: Tensor; indices: Tensor } {
  const C = x.shape[x.rank - 1]!;
  if (k < 1 || k > C) throw new Error(`topk: k=${k} outside [1, ${C}]`);
  const rows = x.size / C;
  const xd = floatData(x);
  const idx = new Int32Array(rows * k);
  const order = new Array<number>(C);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < C; c++) order[c] = c;
    const base = r * C;
    order.sort((a, b) => xd[base + b]! - xd[base + a]! || a - b);
    for (let j = 0; j < k; j++) idx[r * k + j] = order[j]!;
  }
  const indicesT = new Tensor(idx, [...x.shape.slice(0, -1), k], 'i32');
  return { values: gather(x, -1, indicesT), indices: indicesT };
}
