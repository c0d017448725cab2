/**
 * bfloat16: the top 16 bits of an f32 (1 sign, 8 exponent, 7 mantissa bits). Encoding rounds to
 * nearest, ties to even, overflowing to ±inf like IEEE; subnormals are kept.
 *
 * NaN: every NaN (any sign or payload) encodes to 0xFFFF. That is what PyTorch's CPU conversion
 * produces (its vectorised path blends in 0xFFFF for unordered lanes; see the `codecs.safetensors`
 * fixture), not the 0x7FC0 of c10's scalar helper, and we match the tensor conversion bit for bit.
 */
import { destination, f32Bits, f32FromBits, u32View } from './bits.ts';

/** bf16 bits of `x` (first rounded to f32, as a float32 tensor would hold it). */
export function bf16FromF32(x: number): number {
  return bf16FromBits(f32Bits(x));
}

/** f32 value of the bf16 `bits`; exact (bf16 is a truncated f32). */
export function f32FromBf16(bits: number): number {
  return f32FromBits(((bits & 0xffff) << 16) >>> 0);
}

function bf16FromBits(u: number): number {
  if ((u & 0x7fffffff) > 0x7f800000) return 0xffff;
  // Round to nearest even on the 16 bits dropped: add 0x7FFF plus the lowest kept bit. The sum stays
  // below 2^32 for every non-NaN input, so the unsigned shift sees no wrapped carry.
  return (u + 0x7fff + ((u >>> 16) & 1)) >>> 16;
}

/** Encodes each f32 of `src` to bf16 bits, into `dst` when given (same length) or a new array. */
export function encodeBf16(src: Float32Array, dst?: Uint16Array): Uint16Array {
  const out = destination(dst, src.length, (n) => new Uint16Array(n), 'encodeBf16');
  const bits = u32View(src);
  for (let i = 0; i < bits.length; i++) out[i] = bf16FromBits(bits[i]!);
  return out;
}

/** Decodes bf16 bits to f32 (NaN payloads kept bit for bit), into `dst` when given or a new array. */
export function decodeBf16(src: Uint16Array, dst?: Float32Array): Float32Array {
  const out = destination(dst, src.length, (n) => new Float32Array(n), 'decodeBf16');
  const bits = u32View(out);
  for (let i = 0; i < src.length; i++) bits[i] = (src[i]! << 16) >>> 0;
  return out;
}
