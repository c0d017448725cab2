/**
 * Causal scaled-dot-product attention with grouped KV heads, through the tiled online-softmax
 * kernel: no T×T matrix in the forward or the backward (which recomputes from the saved
 * log-sum-exp, as FlashAttention does).
 */
import { Tensor } from '../tensor.ts';
import { record } from '../autograd.ts';
import { promote } from '../dtype.ts';
import { formatShape } from '../shape.ts';
import { getKernels } from '../../kernels/index.ts';
import { allocFloat, floatData } from './strided.ts';
import { cast } from './cast.ts';
import { activeAttentionLayout, attendByBlocks, withAttentionLayout } from './attention-layout.ts';

export interface AttentionOptions {
  /** Defaults to 1/√Dk. */
  scale?: number;
  /** Query i sees keys ≤ i + (Tk − Tq). Default true. */
  causal?: boolean;
}

/** q [B, H, Tq, Dk], k [B, Hkv, Tk, Dk], v [B, Hkv, Tk, Dv] → [B, H, Tq, Dv]. */
export function attention(q: Tensor, k: Tensor, v: Tensor, opts: AttentionOptions = {}): Tensor {
  // Under an attention layout (packing, padding masks: attention-layout.ts) each row attends block by block.
  const layout = activeAttentionLayout();
  if (layout) return withAttentionLayout(null, () => attendByBlocks(q, k, v, opts, layout, attention));
  const [B, H, Tq, Dk] = q.shape as [number, number, number, number];
  const [Bk, Hkv, Tk, Dk2] = k.shape as [number, number, number, number];
  const Dv = v.shape[3]!;
  if (q.rank !== 4 || k.rank !== 4 || v.rank !== 4 || B !== Bk || Dk !== Dk2 || H % Hkv !== 0 ||
      v.shape[0] !== B || v.shape[1] !== Hkv || v.shape[2] !== Tk || (opts.causal !== false && Tq > Tk)) {
    throw new Error(`attention shapes do not fit: q ${formatShape(q.shape)}, k ${formatShape(k.shape)}, v ${formatShape(v.shape)}`);
  }
  const dtype = promote(promote(q.dtype, k.dtype), v.dtype);
  const [qs, ks, vs] = [q, k, v].map((t) => (t.dtype === dtype ? t : cast(t, dtype))) as [Tensor, Tensor, Tensor];
  const args = {
    B, H, Hkv, Tq, Tk, Dk, Dv,
    scale: opts.scale ?? 1 / Math.sqrt(Dk),
    causal: opts.causal ?? true,
    q: floatData(qs), k: floatData(ks), v: floatData(vs),
    out: allocFloat(dtype, B * H * Tq * Dv),
    lse: allocFloat(dtype, B * H * Tq),
  };
  getKernels().attention(args);
  const out = new Tensor(args.out, [B, H, Tq, Dv], dtype);
  return record(out, 'attention', [qs, ks, vs], (g) => {
    const grads = {
      dOut: floatData(g.dtype === dtype ? g : cast(g, dtype)),
      dq: allocFloat(dtype, args.q.length),
      dk: allocFloat(dtype, args.k.length),
      dv: allocFloat(dtype, args.v.length),
    };
    getKernels().attentionBackward({ ...args, ...grads });
    return [new Tensor(grads.dq, q.shape, dtype), new Tensor(grads.dk, k.shape, dtype), new Tensor(grads.dv, v.shape, dtype)];
  });
}
