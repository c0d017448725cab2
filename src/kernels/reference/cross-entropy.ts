/** Reference fused softmax cross-entropy (sum over non-ignored rows), with its gradient. */
import type { FloatArray } from '../types.ts';

export function crossEntropy(
  logits: FloatArray,
  targets: Int32Array,
  rows: number,
  vocab: number,
  ignoreIndex: number,
  dLogits?: FloatArray,
  gradScale = 1,
): { loss: number; count: number } {
  let loss = 0;
  let count = 0;
  for (let r = 0; r < rows; r++) {
    const o = r * vocab;
    const t = targets[r]!;
    if (t === ignoreIndex) {
      if (dLogits) dLogits.fill(0, o, o + vocab);
      continue;
    }
    if (!(t >= 0 && t < vocab)) throw new RangeError(`crossEntropy: target ${t} outside [0, ${vocab}) in row ${r}`);
    let max = -Infinity;
    for (let i = 0; i < vocab; i++) max = Math.max(max, logits[o + i]!);
    let sum = 0;
    for (let i = 0; i < vocab; i++) sum += Math.exp(logits[o + i]! - max);
    const lse = max + Math.log(sum);
    loss += lse - logits[o + t]!;
    count++;
    if (dLogits) {
      for (let i = 0; i < vocab; i++) dLogits[o + i] = Math.exp(logits[o + i]! - lse) * gradScale;
      dLogits[o + t] = dLogits[o + t]! - gradScale;
    }
  }
  return { loss, count };
}
