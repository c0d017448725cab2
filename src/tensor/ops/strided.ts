/**
 * Strided-memory helpers shared by the ops: reading any view into row-major order, and the
 * broadcast strides that let an op walk an input as if it had the output's shape.
 */
import { allocate, type DType, type Storage, type FloatStorage } from '../dtype.ts';
import { numel, type Shape } from '../shape.ts';
import type { Tensor } from '../tensor.ts';

/** Copies `n = numel(shape)` elements of a strided view into `dst` (row-major). */
export function gather(src: Storage, offset: number, shape: Shape, strides: Shape, dst: Storage, dstOffset = 0): void {
  const rank = shape.length;
  const n = numel(shape);
  if (n === 0) return;
  if (rank === 0) {
    dst[dstOffset] = src[offset]!;
    return;
  }
  const inner = shape[rank - 1]!;
  const innerStride = strides[rank - 1]!;
  const idx = new Array<number>(rank).fill(0);
  let pos = offset;
  let o = dstOffset;
  for (let row = 0; row < n / inner; row++) {
    if (innerStride === 1) {
      for (let j = 0; j < inner; j++) dst[o++] = src[pos + j]!;
    } else {
      for (let j = 0, p = pos; j < inner; j++, p += innerStride) dst[o++] = src[p]!;
    }
    for (let d = rank - 2; d >= 0; d--) {
      idx[d]!++;
      pos += strides[d]!;
      if (idx[d]! < shape[d]!) break;
      pos -= strides[d]! * shape[d]!;
      idx[d] = 0;
    }
  }
}

/** The tensor's elements in row-major order: its own storage when already laid out so, else a copy. */
export function rowMajor(t: Tensor): Storage {
  const n = t.size;
  if (t.isContiguous() && t.offset === 0 && t.data.length === n) return t.data;
  const out = allocate(t.dtype, n);
  gather(t.data, t.offset, t.shape, t.strides, out);
  return out;
}

/** Row-major float values (f32 or f64 tensors only). */
export function floatData(t: Tensor): FloatStorage {
  if (t.dtype !== 'f32' && t.dtype !== 'f64') throw new Error(`expected an f32/f64 tensor, got ${t.dtype} (convert it first)`);
  return rowMajor(t) as FloatStorage;
}

/** Strides of `shape` seen as broadcast to `outShape` (0 along broadcast axes). */
export function broadcastStrides(shape: Shape, strides: Shape, outShape: Shape): number[] {
  const r = outShape.length;
  const s = new Array<number>(r).fill(0);
  for (let i = 0; i < shape.length; i++) {
    const oi = r - shape.length + i;
    s[oi] = shape[i] === 1 && outShape[oi] !== 1 ? 0 : strides[i]!;
  }
  return s;
}

export function allocFloat(dtype: DType, n: number): FloatStorage {
  return allocate(dtype === 'f64' ? 'f64' : 'f32', n);
}
