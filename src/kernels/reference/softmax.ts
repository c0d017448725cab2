/** Reference row-wise softmax, shifted by the row max for stability. */
import type { FloatArray } from '../types.ts';

export function softmax(x: FloatArray, out: FloatArray, rows: number, cols: number): void {
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    let max = -Infinity;
    for (let i = 0; i < cols; i++) max = Math.max(max, x[o + i]!);
    let sum = 0;
    for (let i = 0; i < cols; i++) sum += Math.exp(x[o + i]! - max);
    for (let i = 0; i < cols; i++) out[o + i] = Math.exp(x[o + i]! - max) / sum;
  }
}
