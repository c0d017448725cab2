/** SwiGLU's gate: silu(gate) ⊙ up in one kernel pass (the MLP of every DeepSeek block). */
import { Tensor } from '../tensor.ts';
import { record } from '../autograd.ts';
import { promote } from '../dtype.ts';
import { sameShape, formatShape } from '../shape.ts';
import { getKernels } from '../../kernels/index.ts';
import { allocFloat, floatData } from './strided.ts';
import { cast } from './cast.ts';

export function siluMul(gate: Tensor, up: Tensor): Tensor {
  if (!sameShape(gate.shape, up.shape)) throw new Error(`siluMul shapes differ: ${formatShape(gate.shape)} vs ${formatShape(up.shape)}`);
  const dtype = promote(gate.dtype, up.dtype);
  const gs = gate.dtype === dtype ? gate : cast(gate, dtype);
  const us = up.dtype === dtype ? up : cast(up, dtype);
  const g0 = floatData(gs);
  const u0 = floatData(us);
  const out = allocFloat(dtype, g0.length);
  getKernels().siluMul(g0, u0, out, g0.length);
  const y = new Tensor(out, gate.shape, dtype);
  return record(y, 'siluMul', [gs, us], (g) => {
    const gd = floatData(g);
    const dg = allocFloat(dtype, g0.length);
    const du = allocFloat(dtype, g0.length);
    for (let i = 0; i < g0.length; i++) {
      const x = g0[i]!;
      const s = 1 / (1 + Math.exp(-x));
      du[i] = gd[i]! * x * s;
      dg[i] = gd[i]! * u0[i]! * s * (1 + x * (1 - s));
    }
    return [new Tensor(dg, gate.shape, dtype), new Tensor(du, up.shape, dtype)];
  });
}
