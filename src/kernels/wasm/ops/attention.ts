/** Flash-style attention forward and backward on the WASM threads. */
import type { AttentionArgs, AttentionBackwardArgs, Kernels } from '../../types.ts';
import { referenceKernels as ref } from '../../reference/index.ts';
import { checkAttention, checkAttentionBackward, contiguousKv } from '../../checks.ts';
import { withFrame, type Frame } from '../frame.ts';
import { JOB } from '../layout.ts';
import { isF32, PAR_FLOPS, type Ctx } from './context.ts';

/** Queries per forward chunk and keys per backward tile (must match assembly/attention.ts KB). */
const QB = 16;
const KB = 16;

export function attentionOps({ rt }: Ctx): Pick<Kernels, 'attention' | 'attentionBackward'> {
  function attentionInputs(fr: Frame, a: AttentionArgs) {
    const { B, H, Hkv, Tq, Tk, Dk, Dv } = a;
    return {
      q: fr.inVec(a.q as Float32Array, 0, B * H * Tq * Dk),
      k: fr.inVec(a.k as Float32Array, 0, B * Hkv * Tk * Dk),
      v: fr.inVec(a.v as Float32Array, 0, B * Hkv * Tk * Dv),
    };
  }

  function attention(strided: AttentionArgs): void {
    if (rt.broken || !isF32(strided.q, strided.k, strided.v, strided.out, strided.lse)) return ref.attention(strided);
    checkAttention(strided);
    // The WASM kernel reads packed heads (it copies them into its memory anyway).
    const a = contiguousKv(strided);
    const { B, H, Hkv, Tq, Tk, Dk, Dv } = a;
    if (B * H * Tq === 0) return;
    rt.ensureScratch(Dv * 4 + 16 + 68 * 4 + 64);
    withFrame(rt, (fr) => {
      const { q, k, v } = attentionInputs(fr, a);
      const out = fr.outVec(a.out as Float32Array, 0, B * H * Tq * Dv);
      const lse = fr.outVec(a.lse as Float32Array, 0, B * H * Tq);
      const total = B * H * Math.ceil(Tq / QB);
      rt.dispatch(JOB.ATT_FWD, total, B * H * Tq * Tk * (Dk + Dv) >= PAR_FLOPS, (i, f) => {
        i.set([B, H, Hkv, Tq, Tk, Dk, Dv, +a.causal, q, k, v, out, lse, QB]);
        f[0] = a.scale;
      });
    });
  }

  function attentionBackward(a: AttentionBackwardArgs): void {
    if (rt.broken || !isF32(a.q, a.k, a.v, a.out, a.lse, a.dOut, a.dq, a.dk, a.dv)) return ref.attentionBackward(a);
    checkAttentionBackward(a);
    const { B, H, Hkv, Tq, Tk, Dk, Dv } = a;
    if (B * Hkv === 0) return;
    rt.ensureScratch((H / Hkv) * Tq * 4 + 16 + KB * (Dk + Dv) * 4 + 3 * (KB + 4) * 4 + 64);
    withFrame(rt, (fr) => {
      const { q, k, v } = attentionInputs(fr, a);
      const out = fr.inVec(a.out as Float32Array, 0, B * H * Tq * Dv);
      const lse = fr.inVec(a.lse as Float32Array, 0, B * H * Tq);
      const dOut = fr.inVec(a.dOut as Float32Array, 0, B * H * Tq * Dv);
      const dq = fr.outVec(a.dq as Float32Array, 0, B * H * Tq * Dk);
      const dk = fr.outVec(a.dk as Float32Array, 0, B * Hkv * Tk * Dk);
      const dv = fr.outVec(a.dv as Float32Array, 0, B * Hkv * Tk * Dv);
      rt.dispatch(JOB.ATT_BWD, B * Hkv, 2 * B * H * Tq * Tk * (Dk + Dv) >= PAR_FLOPS, (i, f) => {
        i.set([B, H, Hkv, Tq, Tk, Dk, Dv, +a.causal, q, k, v, out, lse, dOut, dq, dk, dv]);
        f[0] = a.scale;
      });
    });
  }

  return { attention, attentionBackward };
}
