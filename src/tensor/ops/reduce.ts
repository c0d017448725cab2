/** Reductions over axes (sum, mean, max) and `sumTo`, the reverse of broadcasting. */
import { Tensor } from '../tensor.ts';
import { record } from '../autograd.ts';
import { normAxis, sameShape, type Shape } from '../shape.ts';
import { allocFloat, floatData } from './strided.ts';
import { permute, reshape, expand } from './view.ts';

function axesOf(t: Tensor, axes?: number | number[]): number[] {
  if (axes === undefined) return t.shape.map((_, i) => i);
  const list = typeof axes === 'number' ? [axes] : axes;
  return [...new Set(list.map((a) => normAxis(a, t.rank)))].sort((x, y) => x - y);
}

/** Moves the reduced axes last and returns [outer count, inner count, kept shape]. */
function split(t: Tensor, axes: number[]): { moved: Tensor; outer: number; inner: number; kept: number[] } {
  const keep = t.shape.map((_, i) => i).filter((i) => !axes.includes(i));
  const moved = permute(t, [...keep, ...axes]);
  const kept = keep.map((i) => t.shape[i]!);
  const inner = axes.reduce((p, i) => p * t.shape[i]!, 1);
  return { moved, outer: kept.reduce((p, d) => p * d, 1), inner, kept };
}

function keptShape(t: Tensor, axes: number[], keepDim: boolean): number[] {
  return keepDim ? t.shape.map((d, i) => (axes.includes(i) ? 1 : d)) : t.shape.filter((_, i) => !axes.includes(i));
}

export function sum(t: Tensor, axes?: number | number[], keepDim = false): Tensor {
  const ax = axesOf(t, axes);
  const { moved, outer, inner } = split(t, ax);
  const x = floatData(moved);
  const out = allocFloat(t.dtype, outer);
  for (let o = 0; o < outer; o++) {
    let s = 0;
    const base = o * inner;
    for (let i = 0; i < inner; i++) s += x[base + i]!;
    out[o] = s;
  }
  const shape = keptShape(t, ax, keepDim);
  const res = new Tensor(out, shape, t.dtype === 'f64' ? 'f64' : 'f32');
  return record(res, 'sum', [t], (g) => [expand(reshape(g, keptShape(t, ax, true)), t.shape)]);
}

export function mean(t: Tensor, axes?: number | number[], keepDim = false): Tensor {
  const ax = axesOf(t, axes);
  const count = ax.reduce((p, i) => p * t.shape[i]!, 1);
  const s = sum(t, ax, keepDim);
  const x = s.data as Float32Array | Float64Array;
  const out = allocFloat(s.dtype, x.length);
  for (let i = 0; i < x.length; i++) out[i] = x[i]! / count;
  const res = new Tensor(out, s.shape, s.dtype);
  return record(res, 'mean', [t], (g) => {
    const gs = reshape(g, keptShape(t, ax, true));
    const scaled = new Tensor(allocFloat(g.dtype, gs.size), gs.shape, g.dtype === 'f64' ? 'f64' : 'f32');
    const gd = floatData(gs);
    for (let i = 0; i < gd.length; i++) scaled.data[i] = gd[i]! / count;
    return [expand(scaled, t.shape)];
  });
}

/** Maximum over axes; the gradient flows to the first maximal element of each group. */
export function max(t: Tensor, axes?: number | number[], keepDim = false): Tensor {
  const ax = axesOf(t, axes);
  const { moved, outer, inner } = split(t, ax);
  const x = floatData(moved);
  const out = allocFloat(t.dtype, outer);
  const arg = new Int32Array(outer);
  for (let o = 0; o < outer; o++) {
    const base = o * inner;
    let best = -Infinity;
    let bi = 0;
    for (let i = 0; i < inner; i++) {
      const v = x[base + i]!;
      if (v > best || Number.isNaN(v)) {
        best = v;
        bi = i;
        if (Number.isNaN(v)) break;
      }
    }
    out[o] = best;
    arg[o] = bi;
  }
  const res = new Tensor(out, keptShape(t, ax, keepDim), t.dtype === 'f64' ? 'f64' : 'f32');
  return record(res, 'max', [t], (g) => {
    const gd = floatData(g);
    const gm = allocFloat(g.dtype, outer * inner);
    for (let o = 0; o < outer; o++) gm[o * inner + arg[o]!] = gd[o]!;
    // gm is laid out in the moved order (kept axes, then reduced axes): undo the permutation.
    const keep = t.shape.map((_, i) => i).filter((i) => !ax.includes(i));
    const order = [...keep, ...ax];
    const movedShape = order.map((i) => t.shape[i]!);
    const inv = new Array<number>(order.length);
    order.forEach((src, dst) => (inv[src] = dst));
    const gt = new Tensor(gm, movedShape, g.dtype === 'f64' ? 'f64' : 'f32');
    return [permute(gt, inv)];
  });
}

/** Sums a broadcast gradient back down to `shape` (the adjoint of broadcasting). */
export function sumTo(g: Tensor, shape: Shape): Tensor {
  if (sameShape(g.shape, shape)) return g;
  const lead = g.rank - shape.length;
  const axes: number[] = [];
  for (let i = 0; i < g.rank; i++) {
    if (i < lead || (shape[i - lead] === 1 && g.shape[i] !== 1)) axes.push(i);
  }
  const s = axes.length ? sum(g, axes, true) : g;
  return reshape(s, shape);
}
