/**
 * Rotary position embedding: each pair of channels is rotated by its position's angle. Two pair
 * layouts exist in the released checkpoints: `interleaved` pairs (2i, 2i+1) (DeepSeek-V2/V3's
 * decoupled RoPE keys/queries) and `half` pairs (i, i + D/2) (Llama/Qwen's rotate_half).
 */
import { Tensor } from '../tensor.ts';
import { record } from '../autograd.ts';
import { formatShape } from '../shape.ts';
import { allocFloat, floatData } from './strided.ts';

export type RopeLayout = 'interleaved' | 'half';

/**
 * x [B, T, H, D]; cos, sin [T, D/2] (shared by the batch) or [B, T, D/2] (per sequence, for batched
 * decoding at different positions). The backward is the inverse rotation.
 */
export function rope(x: Tensor, cos: Tensor, sin: Tensor, layout: RopeLayout): Tensor {
  return ropeImpl(x, cos, sin, layout, 1);
}

function ropeImpl(x: Tensor, cos: Tensor, sin: Tensor, layout: RopeLayout, sign: number): Tensor {
  if (x.rank !== 4) throw new Error(`rope expects x [B, T, H, D], got ${formatShape(x.shape)}`);
  const [B, T, H, D] = x.shape as [number, number, number, number];
  const half = D / 2;
  const perBatch = cos.rank === 3;
  if (D % 2 || cos.shape[cos.rank - 1] !== half || cos.shape[cos.rank - 2] !== T || (perBatch && cos.shape[0] !== B)) {
    throw new Error(`rope tables ${formatShape(cos.shape)} do not fit x ${formatShape(x.shape)}`);
  }
  const xd = floatData(x);
  const cd = floatData(cos);
  const sd = floatData(sin);
  const out = allocFloat(x.dtype, xd.length);
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      const tb = (perBatch ? b * T + t : t) * half;
      for (let h = 0; h < H; h++) {
        const base = ((b * T + t) * H + h) * D;
        for (let i = 0; i < half; i++) {
          const c = cd[tb + i]!;
          const s = sign * sd[tb + i]!;
          const i0 = layout === 'interleaved' ? base + 2 * i : base + i;
          const i1 = layout === 'interleaved' ? i0 + 1 : i0 + half;
          const a = xd[i0]!;
          const bb = xd[i1]!;
          out[i0] = a * c - bb * s;
          out[i1] = bb * c + a * s;
        }
      }
    }
  }
  const y = new Tensor(out, x.shape, x.dtype === 'f64' ? 'f64' : 'f32');
  return record(y, 'rope', [x], (g) => [ropeImpl(g, cos, sin, layout, -sign)]);
}
