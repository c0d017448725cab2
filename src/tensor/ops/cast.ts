/**
 * Dtype conversion. f32 ⇄ f64 is differentiable (gradient checks run in f64); narrow dtypes decode to
 * f32 (fp8/int8 times their block scales) and f32 encodes to them with round-to-nearest-even.
 */
import { Tensor } from '../tensor.ts';
import { record } from '../autograd.ts';
import type { DType } from '../dtype.ts';
import { rowMajor } from './strided.ts';
import * as codecs from '../codecs.ts';

function decodeToF32(t: Tensor): Float32Array {
  if (t.dtype === 'i4') return codecs.decodeI4Codes(t.data as Uint8Array, t.size);
  const raw = rowMajor(t);
  switch (t.dtype) {
    case 'bf16':
      return codecs.decodeBf16(raw as Uint16Array);
    case 'f16':
      return codecs.decodeF16(raw as Uint16Array);
    case 'e4m3':
      return codecs.decodeE4m3(raw as Uint8Array);
    case 'e5m2':
      return codecs.decodeE5m2(raw as Uint8Array);
    default:
      return Float32Array.from(raw as ArrayLike<number>);
  }
}

/** Converts to `dtype`; gradients pass through f32 ⇄ f64 conversions. */
export function cast(t: Tensor, dtype: DType): Tensor {
  if (t.dtype === dtype) return t;
  let out: Tensor;
  if (dtype === 'f64') {
    out = new Tensor(Float64Array.from(t.dtype === 'f32' ? (rowMajor(t) as Float32Array) : decodeToF32(t)), t.shape, 'f64');
  } else if (dtype === 'f32') {
    out = new Tensor(t.dtype === 'f64' ? Float32Array.from(rowMajor(t) as Float64Array) : decodeToF32(t), t.shape, 'f32');
  } else {
    const src = t.dtype === 'f32' ? (rowMajor(t) as Float32Array) : Float32Array.from(rowMajor(cast(t, 'f32')) as Float32Array);
    out = new Tensor(encode(src, dtype), t.shape, dtype);
  }
  if ((t.dtype === 'f32' || t.dtype === 'f64') && (dtype === 'f32' || dtype === 'f64')) {
    return record(out, 'cast', [t], (g) => [cast(g, t.dtype)]);
  }
  return out;
}

function encode(src: Float32Array, dtype: DType) {
  switch (dtype) {
    case 'bf16':
      return codecs.encodeBf16(src);
    case 'f16':
      return codecs.encodeF16(src);
    case 'e4m3':
      return codecs.encodeE4m3(src);
    case 'e5m2':
      return codecs.encodeE5m2(src);
    case 'i32':
      return Int32Array.from(src, Math.trunc);
    case 'i8':
      return Int8Array.from(src, Math.trunc);
    case 'u8':
      return Uint8Array.from(src, Math.trunc);
    default:
      throw new Error(`cannot encode to ${dtype}`);
  }
}

/** The f32 value of a stored weight, applying fp8 block scales or int8 row scales. */
export function dequantize(w: Tensor): Tensor {
  const values = decodeToF32(w);
  const s = w.scale;
  if (s && w.rank === 2) {
    const rows = w.shape[0]!;
    const cols = w.shape[1]!;
    const blocksPerRow = Math.ceil(cols / s.blockCols);
    for (let r = 0; r < rows; r++) {
      const sr = Math.floor(r / s.blockRows) * blocksPerRow;
      for (let c = 0; c < cols; c++) values[r * cols + c]! *= s.scaleInv[sr + Math.floor(c / s.blockCols)]!;
    }
  }
  return new Tensor(values, w.shape, 'f32');
}
