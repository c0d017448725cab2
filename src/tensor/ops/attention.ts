/**
 * Causal scaled-dot-product attention with grouped KV heads, through the tiled online-softmax
 * kernel: no T×T matrix in the forward or the backward (which recomputes from the saved
 * log-sum-exp, as FlashAttention does).
 */
import { Tensor } from '../tensor.ts';
import { record } from '../autograd.ts';
import { promote, type FloatStorage } from '../dtype.ts';
import { formatShape } from '../shape.ts';
import { getKernels } from '../../kernels/index.ts';
import { contiguousKv } from '../../kernels/checks.ts';
import { allocFloat, floatData } from './strided.ts';
import { cast } from './cast.ts';
import { activeAttentionLayout, attendByBlocks, withAttentionLayout } from './attention-layout.ts';
import { activeAttentionProbe } from './attention-probe.ts';

export interface AttentionOptions {
  /** Defaults to 1/√Dk. */
  scale?: number;
  /** Query i sees keys ≤ i + (Tk − Tq). Default true. */
  causal?: boolean;
}

/**
 * k or v as the kernel reads it: contiguous data, or — for a view that needs no gradient and whose rows
 * and heads are merely spaced apart (a decoding cache with room to grow; MLA's values, the leading part
 * of each latent row) — the storage itself with those strides, so the cache is never copied.
 */
function kvOperand(t: Tensor): { data: FloatStorage; headStride?: number; rowStride?: number } {
  const [B, Hkv, Tk, D] = t.shape as [number, number, number, number];
  const [s0, s1, s2, s3] = t.strides as [number, number, number, number];
  const row = Tk > 1 ? s2 : D;
  const head = Tk > 0 ? (Tk - 1) * row + D : 0;
  const inPlace = (s3 === 1 || D === 1) && row >= D && (Hkv === 1 && B === 1 ? true : s1 >= head) && (B === 1 || s0 === Hkv * s1);
  if (!t.requiresGrad && inPlace && (row !== D || (Hkv * B > 1 && s1 !== Tk * D)) && (t.dtype === 'f32' || t.dtype === 'f64') && Tk > 0) {
    const hs = Hkv * B > 1 ? s1 : head;
    const data = t.data as FloatStorage;
    return { data: data.subarray(t.offset, t.offset + (B * Hkv - 1) * hs + head), headStride: hs, rowStride: row };
  }
  return { data: floatData(t) };
}

/** q [B, H, Tq, Dk], k [B, Hkv, Tk, Dk], v [B, Hkv, Tk, Dv] → [B, H, Tq, Dv]. */
export function attention(q: Tensor, k: Tensor, v: Tensor, opts: AttentionOptions = {}): Tensor {
  // Under an attention layout (packing, padding masks: attention-layout.ts) each row attends block by block.
  const layout = activeAttentionLayout();
  if (layout) return withAttentionLayout(null, () => attendByBlocks(q, k, v, opts, layout, attention));
  activeAttentionProbe()?.(q, k, opts);
  const [B, H, Tq, Dk] = q.shape as [number, number, number, number];
  const [Bk, Hkv, Tk, Dk2] = k.shape as [number, number, number, number];
  const Dv = v.shape[3]!;
  if (
    q.rank !== 4 ||
    k.rank !== 4 ||
    v.rank !== 4 ||
    B !== Bk ||
    Dk !== Dk2 ||
    H % Hkv !== 0 ||
    v.shape[0] !== B ||
    v.shape[1] !== Hkv ||
    v.shape[2] !== Tk ||
    (opts.causal !== false && Tq > Tk)
  ) {
    throw new Error(`attention shapes do not fit: q ${formatShape(q.shape)}, k ${formatShape(k.shape)}, v ${formatShape(v.shape)}`);
  }
  const dtype = promote(promote(q.dtype, k.dtype), v.dtype);
  const [qs, ks, vs] = [q, k, v].map((t) => (t.dtype === dtype ? t : cast(t, dtype))) as [Tensor, Tensor, Tensor];
  const kOp = kvOperand(ks);
  const vOp = kvOperand(vs);
  const args = {
    B,
    H,
    Hkv,
    Tq,
    Tk,
    Dk,
    Dv,
    scale: opts.scale ?? 1 / Math.sqrt(Dk),
    causal: opts.causal ?? true,
    q: floatData(qs),
    k: kOp.data,
    v: vOp.data,
    kHeadStride: kOp.headStride,
    vHeadStride: vOp.headStride,
    kRowStride: kOp.rowStride,
    vRowStride: vOp.rowStride,
    out: allocFloat(dtype, B * H * Tq * Dv),
    lse: allocFloat(dtype, B * H * Tq),
  };
  getKernels().attention(args);
  const out = new Tensor(args.out, [B, H, Tq, Dv], dtype);
  return record(out, 'attention', [qs, ks, vs], (g) => {
    const packed = contiguousKv(args); // the backward kernel takes packed heads
    const grads = {
      dOut: floatData(g.dtype === dtype ? g : cast(g, dtype)),
      dq: allocFloat(dtype, packed.q.length),
      dk: allocFloat(dtype, packed.k.length),
      dv: allocFloat(dtype, packed.v.length),
    };
    getKernels().attentionBackward({ ...packed, ...grads });
    return [new Tensor(grads.dq, q.shape, dtype), new Tensor(grads.dk, k.shape, dtype), new Tensor(grads.dv, v.shape, dtype)];
  });
}
