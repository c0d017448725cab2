/**
 * Views and layout: reshape, permute/transpose, slice, expand share storage where the strides allow;
 * `contiguous` materialises; concat and split join and cut along an axis.
 */
import { Tensor } from '../tensor.ts';
import { record } from '../autograd.ts';
import { allocate } from '../dtype.ts';
import { contiguousStrides, numel, normAxis, formatShape, type Shape } from '../shape.ts';
import { gather } from './strided.ts';
import { sumTo } from './reduce.ts';

function view(t: Tensor, shape: Shape, strides: Shape, offset: number): Tensor {
  const v = new Tensor(t.data, shape, t.dtype, strides, offset);
  v.scale = t.scale;
  return v;
}

/** A row-major copy unless already row-major. */
export function contiguous(t: Tensor): Tensor {
  if (t.isContiguous()) return t;
  const data = allocate(t.dtype, t.size);
  gather(t.data, t.offset, t.shape, t.strides, data);
  const out = new Tensor(data, t.shape, t.dtype);
  return record(out, 'contiguous', [t], (g) => [g]);
}

/** New shape with the same element count; one entry may be −1. Copies only when the view cannot be expressed. */
export function reshape(t: Tensor, shape: Shape): Tensor {
  const s = [...shape];
  const unknown = s.indexOf(-1);
  if (unknown >= 0) {
    const known = s.reduce((p, d, i) => (i === unknown ? p : p * d), 1);
    s[unknown] = known === 0 ? 0 : t.size / known;
  }
  if (numel(s) !== t.size) throw new Error(`cannot reshape ${formatShape(t.shape)} to ${formatShape(shape)}`);
  const src = contiguous(t);
  const out = view(src, s, contiguousStrides(s), src.offset);
  return record(out, 'reshape', [src], (g) => [reshape(g, src.shape)]);
}

export function permute(t: Tensor, dims: number[]): Tensor {
  if (dims.length !== t.rank) throw new Error(`permute needs ${t.rank} dims, got ${dims.length}`);
  const d = dims.map((x) => normAxis(x, t.rank));
  const out = view(
    t,
    d.map((i) => t.shape[i]!),
    d.map((i) => t.strides[i]!),
    t.offset,
  );
  const inv = new Array<number>(d.length);
  d.forEach((src, dst) => (inv[src] = dst));
  return record(out, 'permute', [t], (g) => [permute(g, inv)]);
}

export function transpose(t: Tensor, a = -2, b = -1): Tensor {
  const dims = t.shape.map((_, i) => i);
  const x = normAxis(a, t.rank);
  const y = normAxis(b, t.rank);
  [dims[x], dims[y]] = [dims[y]!, dims[x]!];
  return permute(t, dims);
}

/** Elements [start, end) along one axis, as a view. */
export function slice(t: Tensor, axis: number, start: number, end: number): Tensor {
  const ax = normAxis(axis, t.rank);
  if (start < 0 || end > t.shape[ax]! || start > end) {
    throw new Error(`slice [${start}, ${end}) out of range for axis ${ax} of ${formatShape(t.shape)}`);
  }
  const shape = [...t.shape];
  shape[ax] = end - start;
  const out = view(t, shape, t.strides, t.offset + start * t.strides[ax]!);
  return record(out, 'slice', [t], (g) => [padAxis(g, ax, start, t.shape[ax]!)]);
}

/** Places g at [start, start+len) of a zero tensor of length `size` along `axis` (slice's adjoint). */
function padAxis(g: Tensor, axis: number, start: number, size: number): Tensor {
  const shape = [...g.shape];
  shape[axis] = size;
  const out = Tensor.zeros(shape, g.dtype === 'f64' ? 'f64' : 'f32');
  const dst = view(out, g.shape, out.strides, start * out.strides[axis]!);
  scatterInto(dst, g);
  return out;
}

/** Writes src's elements into the (possibly strided) view dst. */
function scatterInto(dst: Tensor, src: Tensor): void {
  const vals = allocate(src.dtype, src.size);
  gather(src.data, src.offset, src.shape, src.strides, vals);
  const rank = dst.rank;
  const idx = new Array<number>(rank).fill(0);
  let pos = dst.offset;
  for (let i = 0; i < vals.length; i++) {
    dst.data[pos] = vals[i]!;
    for (let d = rank - 1; d >= 0; d--) {
      idx[d]!++;
      pos += dst.strides[d]!;
      if (idx[d]! < dst.shape[d]!) break;
      pos -= dst.strides[d]! * dst.shape[d]!;
      idx[d] = 0;
    }
  }
}

/** Broadcasts to `shape` without copying (stride 0 on new or size-1 axes). */
export function expand(t: Tensor, shape: Shape): Tensor {
  const lead = shape.length - t.rank;
  if (lead < 0) throw new Error(`cannot expand ${formatShape(t.shape)} to ${formatShape(shape)}`);
  const strides = shape.map((d, i) => {
    if (i < lead) return 0;
    const td = t.shape[i - lead]!;
    if (td === d) return t.strides[i - lead]!;
    if (td === 1) return 0;
    throw new Error(`cannot expand ${formatShape(t.shape)} to ${formatShape(shape)}`);
  });
  const out = view(t, shape, strides, t.offset);
  return record(out, 'expand', [t], (g) => [sumTo(g, t.shape)]);
}

export function unsqueeze(t: Tensor, axis: number): Tensor {
  const ax = axis < 0 ? axis + t.rank + 1 : axis;
  const shape = [...t.shape];
  shape.splice(ax, 0, 1);
  return reshape(t, shape);
}

export function squeeze(t: Tensor, axis: number): Tensor {
  const ax = normAxis(axis, t.rank);
  if (t.shape[ax] !== 1) throw new Error(`cannot squeeze axis ${ax} of size ${t.shape[ax]}`);
  return reshape(
    t,
    t.shape.filter((_, i) => i !== ax),
  );
}

/** Joins tensors along an existing axis. */
export function concat(ts: Tensor[], axis = 0): Tensor {
  if (ts.length === 0) throw new Error('concat of no tensors');
  const first = ts[0]!;
  const ax = normAxis(axis, first.rank);
  for (const t of ts) {
    if (t.rank !== first.rank || t.shape.some((d, i) => i !== ax && d !== first.shape[i])) {
      throw new Error(`concat: shapes ${formatShape(first.shape)} and ${formatShape(t.shape)} differ off axis ${ax}`);
    }
  }
  const shape = [...first.shape];
  shape[ax] = ts.reduce((s, t) => s + t.shape[ax]!, 0);
  const dtype = ts.some((t) => t.dtype === 'f64') ? 'f64' : first.dtype;
  const out = Tensor.zeros(shape, dtype);
  let at = 0;
  for (const t of ts) {
    scatterInto(view(out, t.shape, out.strides, at * out.strides[ax]!), t);
    at += t.shape[ax]!;
  }
  const starts: number[] = [];
  ts.reduce((s, t) => (starts.push(s), s + t.shape[ax]!), 0);
  return record(out, 'concat', ts, (g) => ts.map((t, i) => slice(g, ax, starts[i]!, starts[i]! + t.shape[ax]!)));
}

/** Cuts along an axis into pieces of the given sizes (views). */
export function split(t: Tensor, sizes: number[], axis = 0): Tensor[] {
  const ax = normAxis(axis, t.rank);
  if (sizes.reduce((a, b) => a + b, 0) !== t.shape[ax]) {
    throw new Error(`split sizes [${sizes}] do not add up to ${t.shape[ax]} on axis ${ax}`);
  }
  let at = 0;
  return sizes.map((s) => {
    const piece = slice(t, ax, at, at + s);
    at += s;
    return piece;
  });
}
