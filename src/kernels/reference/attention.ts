/**
 * Reference attention forward: one query row at a time against tiles of keys with an online
 * softmax (running max m, running sum l, rescaled accumulator), so no Tq×Tk matrix ever exists.
 * Accumulates in f64. A query that sees no key (causal with Tq > Tk) gets out = 0, lse = −∞.
 */
import type { AttentionArgs } from '../types.ts';
import { checkAttention, lastVisibleKey } from '../checks.ts';

/** Keys per tile: the only Tk-sized state is a tile of scores. */
export const KEY_TILE = 32;

export function attention(a: AttentionArgs): void {
  checkAttention(a);
  const { B, H, Hkv, Tq, Tk, Dk, Dv, scale, causal, q, k, v, out, lse } = a;
  const kr = a.kRowStride ?? Dk;
  const vr = a.vRowStride ?? Dv;
  const ks = a.kHeadStride ?? Tk * kr;
  const vs = a.vHeadStride ?? Tk * vr;
  const group = H / Hkv;
  const s = new Float64Array(KEY_TILE);
  const acc = new Float64Array(Dv);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < H; h++) {
      const kvh = Math.floor(h / group);
      const kBase = (b * Hkv + kvh) * ks;
      const vBase = (b * Hkv + kvh) * vs;
      for (let i = 0; i < Tq; i++) {
        const row = (b * H + h) * Tq + i;
        const last = lastVisibleKey(i, Tq, Tk, causal);
        let m = -Infinity;
        let l = 0;
        acc.fill(0);
        for (let j0 = 0; j0 <= last; j0 += KEY_TILE) {
          const j1 = Math.min(j0 + KEY_TILE, last + 1);
          let tileMax = -Infinity;
          for (let j = j0; j < j1; j++) {
            let dot = 0;
            for (let d = 0; d < Dk; d++) dot += q[row * Dk + d]! * k[kBase + j * kr + d]!;
            s[j - j0] = dot * scale;
            tileMax = Math.max(tileMax, s[j - j0]!);
          }
          const mNew = Math.max(m, tileMax);
          // Rescale what was accumulated under the old max.
          const corr = Math.exp(m - mNew);
          l *= corr;
          for (let d = 0; d < Dv; d++) acc[d]! *= corr;
          for (let j = j0; j < j1; j++) {
            const p = Math.exp(s[j - j0]! - mNew);
            l += p;
            for (let d = 0; d < Dv; d++) acc[d]! += p * v[vBase + j * vr + d]!;
          }
          m = mNew;
        }
        for (let d = 0; d < Dv; d++) out[row * Dv + d] = l > 0 ? acc[d]! / l : 0;
        lse[row] = l > 0 ? m + Math.log(l) : -Infinity;
      }
    }
  }
}
