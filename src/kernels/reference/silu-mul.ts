/** Reference SwiGLU gate: out = silu(gate) · up, silu(g) = g / (1 + e^(−g)). */
import type { FloatArray } from '../types.ts';

export function siluMul(gate: FloatArray, up: FloatArray, out: FloatArray, n: number): void {
  for (let i = 0; i < n; i++) {
    const g = gate[i]!;
    out[i] = (g / (1 + Math.exp(-g))) * up[i]!;
  }
}
