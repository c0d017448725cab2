/** Softmax and log-softmax over an axis (the kernel works on rows of the last axis). */
import { Tensor } from '../tensor.ts';
import { record } from '../autograd.ts';
import { normAxis } from '../shape.ts';
import { getKernels } from '../../kernels/index.ts';
import { allocFloat, floatData } from './strided.ts';
import { transpose, contiguous } from './view.ts';

function lastAxis(t: Tensor, axis: number, f: (x: Tensor) => Tensor): Tensor {
  const ax = normAxis(axis, t.rank);
  if (ax === t.rank - 1) return f(t);
  return transpose(f(contiguous(transpose(t, ax, -1))), ax, -1);
}

export function softmax(t: Tensor, axis = -1): Tensor {
  return lastAxis(t, axis, (x) => {
    const cols = x.shape[x.rank - 1]!;
    const rows = x.size / cols;
    const data = floatData(x);
    const out = allocFloat(x.dtype, data.length);
    getKernels().softmax(data, out, rows, cols);
    const y = new Tensor(out, x.shape, x.dtype === 'f64' ? 'f64' : 'f32');
    // dx = y ⊙ (g − Σ g⊙y)
    return record(y, 'softmax', [x], (g) => {
      const gd = floatData(g);
      const dx = allocFloat(g.dtype, gd.length);
      for (let r = 0; r < rows; r++) {
        let dot = 0;
        for (let c = 0; c < cols; c++) dot += gd[r * cols + c]! * out[r * cols + c]!;
        for (let c = 0; c < cols; c++) dx[r * cols + c] = out[r * cols + c]! * (gd[r * cols + c]! - dot);
      }
      return [new Tensor(dx, x.shape, g.dtype === 'f64' ? 'f64' : 'f32')];
    });
  });
}

export function logSoftmax(t: Tensor, axis = -1): Tensor {
  return lastAxis(t, axis, (x) => {
    const cols = x.shape[x.rank - 1]!;
    const rows = x.size / cols;
    const data = floatData(x);
    const out = allocFloat(x.dtype, data.length);
    for (let r = 0; r < rows; r++) {
      let m = -Infinity;
      for (let c = 0; c < cols; c++) m = Math.max(m, data[r * cols + c]!);
      let s = 0;
      for (let c = 0; c < cols; c++) s += Math.exp(data[r * cols + c]! - m);
      const lse = m + Math.log(s);
      for (let c = 0; c < cols; c++) out[r * cols + c] = data[r * cols + c]! - lse;
    }
    const y = new Tensor(out, x.shape, x.dtype === 'f64' ? 'f64' : 'f32');
    // dx = g − softmax · Σ g
    return record(y, 'logSoftmax', [x], (g) => {
      const gd = floatData(g);
      const dx = allocFloat(g.dtype, gd.length);
      for (let r = 0; r < rows; r++) {
        let s = 0;
        for (let c = 0; c < cols; c++) s += gd[r * cols + c]!;
        for (let c = 0; c < cols; c++) dx[r * cols + c] = gd[r * cols + c]! - Math.exp(out[r * cols + c]!) * s;
      }
      return [new Tensor(dx, x.shape, g.dtype === 'f64' ? 'f64' : 'f32')];
    });
  });
}
