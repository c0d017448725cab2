/**
 * Reference attention backward (FlashAttention-2): probabilities are recomputed from lse,
 * P = exp(scale·q·k − lse); with D_i = rowsum(dO_i ∘ O_i), dS = P ∘ (dP − D) where dP = dO·Vᵀ.
 * Key tiles are the outer loop (dK, dV of a tile accumulate while queries stream by), as in FA-2.
 * Accumulates in f64; never holds a Tq×Tk matrix.
 */
import type { AttentionBackwardArgs } from '../types.ts';
import { checkAttentionBackward, lastVisibleKey } from '../checks.ts';
import { KEY_TILE } from './attention.ts';

export function attentionBackward(a: AttentionBackwardArgs): void {
  checkAttentionBackward(a);
  const { B, H, Hkv, Tq, Tk, Dk, Dv, scale, causal, q, k, v, out, lse, dOut, dq, dk, dv } = a;
  const group = H / Hkv;
  const D = new Float64Array(Tq);
  const dqAcc = new Float64Array(Tq * Dk);
  const dkAcc = new Float64Array(Tk * Dk);
  const dvAcc = new Float64Array(Tk * Dv);
  for (let b = 0; b < B; b++) {
    for (let kvh = 0; kvh < Hkv; kvh++) {
      const kBase = (b * Hkv + kvh) * Tk;
      dkAcc.fill(0);
      dvAcc.fill(0);
      for (let h = kvh * group; h < (kvh + 1) * group; h++) {
        const qBase = (b * H + h) * Tq;
        dqAcc.fill(0);
        for (let i = 0; i < Tq; i++) {
          let s = 0;
          for (let d = 0; d < Dv; d++) s += dOut[(qBase + i) * Dv + d]! * out[(qBase + i) * Dv + d]!;
          D[i] = s;
        }
        for (let j0 = 0; j0 < Tk; j0 += KEY_TILE) {
          const j1 = Math.min(j0 + KEY_TILE, Tk);
          for (let i = 0; i < Tq; i++) {
            const row = qBase + i;
            const jEnd = Math.min(j1, lastVisibleKey(i, Tq, Tk, causal) + 1);
            for (let j = j0; j < jEnd; j++) {
              let dot = 0;
              for (let d = 0; d < Dk; d++) dot += q[row * Dk + d]! * k[(kBase + j) * Dk + d]!;
              const p = Math.exp(dot * scale - lse[row]!);
              let dp = 0;
              for (let d = 0; d < Dv; d++) {
                dvAcc[j * Dv + d]! += p * dOut[row * Dv + d]!;
                dp += dOut[row * Dv + d]! * v[(kBase + j) * Dv + d]!;
              }
              const ds = p * (dp - D[i]!) * scale;
              for (let d = 0; d < Dk; d++) {
                dqAcc[i * Dk + d]! += ds * k[(kBase + j) * Dk + d]!;
                dkAcc[j * Dk + d]! += ds * q[row * Dk + d]!;
              }
            }
          }
        }
        for (let x = 0; x < Tq * Dk; x++) dq[qBase * Dk + x] = dqAcc[x]!;
      }
      for (let x = 0; x < Tk * Dk; x++) dk[kBase * Dk + x] = dkAcc[x]!;
      for (let x = 0; x < Tk * Dv; x++) dv[kBase * Dv + x] = dvAcc[x]!;
    }
  }
}
