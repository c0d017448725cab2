/** Reference RMSNorm (HF DeepSeek/Llama): x / sqrt(mean(x²) + eps) · weight. */
import type { FloatArray } from '../types.ts';

export function rmsNorm(
  x: FloatArray,
  weight: FloatArray,
  out: FloatArray,
  rows: number,
  dim: number,
  eps: number,
  rstd?: FloatArray,
): void {
  for (let r = 0; r < rows; r++) {
    const o = r * dim;
    let ss = 0;
    for (let i = 0; i < dim; i++) ss += x[o + i]! * x[o + i]!;
    const rs = 1 / Math.sqrt(ss / dim + eps);
    if (rstd) rstd[r] = rs;
    for (let i = 0; i < dim; i++) out[o + i] = x[o + i]! * rs * weight[i]!;
  }
}
