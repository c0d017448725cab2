/** RMSNorm, fused: y = x / rms(x) · w, with the closed-form backward. */
import { Tensor } from '../tensor.ts';
import { record } from '../autograd.ts';
import { promote } from '../dtype.ts';
import { formatShape } from '../shape.ts';
import { getKernels } from '../../kernels/index.ts';
import { allocFloat, floatData } from './strided.ts';
import { cast } from './cast.ts';

export function rmsNorm(x: Tensor, weight: Tensor, eps: number): Tensor {
  const D = x.shape[x.rank - 1]!;
  if (weight.rank !== 1 || weight.shape[0] !== D)
    throw new Error(`rmsNorm weight ${formatShape(weight.shape)} does not fit ${formatShape(x.shape)}`);
  const dtype = promote(x.dtype, weight.dtype === 'f64' ? 'f64' : 'f32');
  const xs = x.dtype === dtype ? x : cast(x, dtype);
  const ws = weight.dtype === dtype ? weight : cast(weight, dtype);
  const rows = x.size / D;
  const xd = floatData(xs);
  const wd = floatData(ws);
  const out = allocFloat(dtype, xd.length);
  const rstd = allocFloat(dtype, rows);
  getKernels().rmsNorm(xd, wd, out, rows, D, eps, rstd);
  const y = new Tensor(out, x.shape, dtype);
  // With x̂ = x·r: dw = Σ_rows g⊙x̂,  dx = r·(g⊙w − x̂·mean(g⊙w⊙x̂)).
  return record(y, 'rmsNorm', [xs, ws], (g) => {
    const gd = floatData(g);
    const dx = allocFloat(dtype, xd.length);
    const dw = allocFloat(dtype, D);
    for (let r = 0; r < rows; r++) {
      const rs = rstd[r]!;
      const base = r * D;
      let dot = 0;
      for (let j = 0; j < D; j++) {
        const xh = xd[base + j]! * rs;
        const gw = gd[base + j]! * wd[j]!;
        dot += gw * xh;
        dw[j] += gd[base + j]! * xh;
      }
      dot /= D;
      for (let j = 0; j < D; j++) dx[base + j] = rs * (gd[base + j]! * wd[j]! - xd[base + j]! * rs * dot);
    }
    return [new Tensor(dx, x.shape, dtype), new Tensor(dw, weight.shape, dtype)];
  });
}
