/**
 * Textbook attention with the full Tq×Tk matrix, in f64: the independent oracle for the tiled
 * reference (forward and backward). Only for small sizes.
 */
import type { AttentionArgs, AttentionBackwardArgs } from '../../src/kernels/types.ts';

function probabilities(a: AttentionArgs, b: number, h: number): number[][] {
  const { H, Hkv, Tq, Tk, Dk, scale, causal, q, k } = a;
  const kvh = Math.floor(h / (H / Hkv));
  const P: number[][] = [];
  for (let i = 0; i < Tq; i++) {
    const s: number[] = [];
    for (let j = 0; j < Tk; j++) {
      if (causal && j > i + Tk - Tq) {
        s.push(-Infinity);
        continue;
      }
      let dot = 0;
      for (let d = 0; d < Dk; d++) dot += q[((b * H + h) * Tq + i) * Dk + d]! * k[((b * Hkv + kvh) * Tk + j) * Dk + d]!;
      s.push(dot * scale);
    }
    const m = Math.max(...s);
    const e = s.map((x) => (m === -Infinity ? 0 : Math.exp(x - m)));
    const sum = e.reduce((x, y) => x + y, 0);
    P.push(e.map((x) => (sum > 0 ? x / sum : 0)));
  }
  return P;
}

export function naiveAttention(a: AttentionArgs): void {
  const { B, H, Hkv, Tq, Tk, Dk, Dv, scale, causal, q, k, v, out, lse } = a;
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < H; h++) {
      const kvh = Math.floor(h / (H / Hkv));
      const P = probabilities(a, b, h);
      for (let i = 0; i < Tq; i++) {
        const row = (b * H + h) * Tq + i;
        for (let d = 0; d < Dv; d++) {
          let acc = 0;
          for (let j = 0; j < Tk; j++) acc += P[i]![j]! * v[((b * Hkv + kvh) * Tk + j) * Dv + d]!;
          out[row * Dv + d] = acc;
        }
        let m = -Infinity;
        const s: number[] = [];
        for (let j = 0; j < Tk; j++) {
          if (causal && j > i + Tk - Tq) continue;
          let dot = 0;
          for (let d = 0; d < Dk; d++) dot += q[row * Dk + d]! * k[((b * Hkv + kvh) * Tk + j) * Dk + d]!;
          s.push(dot * scale);
          m = Math.max(m, dot * scale);
        }
        lse[row] = s.length ? m + Math.log(s.reduce((x, y) => x + Math.exp(y - m), 0)) : -Infinity;
      }
    }
  }
}

/** dS = P ∘ (dP − rowsum(dP ∘ P)), dQ = scale·dS·K, dK = scale·dSᵀ·Q, dV = Pᵀ·dO. */
export function naiveAttentionBackward(a: AttentionBackwardArgs): void {
  const { B, H, Hkv, Tq, Tk, Dk, Dv, scale, q, k, v, dOut, dq, dk, dv } = a;
  dq.fill(0);
  dk.fill(0);
  dv.fill(0);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < H; h++) {
      const kvh = Math.floor(h / (H / Hkv));
      const P = probabilities(a, b, h);
      for (let i = 0; i < Tq; i++) {
        const row = (b * H + h) * Tq + i;
        const dP: number[] = [];
        for (let j = 0; j < Tk; j++) {
          let s = 0;
          for (let d = 0; d < Dv; d++) s += dOut[row * Dv + d]! * v[((b * Hkv + kvh) * Tk + j) * Dv + d]!;
          dP.push(s);
        }
        const rowDot = dP.reduce((acc, x, j) => acc + x * P[i]![j]!, 0);
        for (let j = 0; j < Tk; j++) {
          const p = P[i]![j]!;
          const dS = p * (dP[j]! - rowDot) * scale;
          const kr = (b * Hkv + kvh) * Tk + j;
          for (let d = 0; d < Dk; d++) {
            dq[row * Dk + d] = dq[row * Dk + d]! + dS * k[kr * Dk + d]!;
            dk[kr * Dk + d] = dk[kr * Dk + d]! + dS * q[row * Dk + d]!;
          }
          for (let d = 0; d < Dv; d++) dv[kr * Dv + d] = dv[kr * Dv + d]! + p * dOut[row * Dv + d]!;
        }
      }
    }
  }
}
