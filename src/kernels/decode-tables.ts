/**
 * Decoders for the low-precision weight formats: bf16 by bit shift, f16 / fp8 through lookup
 * tables (built once, on first use). Bit-exact: every code maps to the f32 PyTorch decodes it to.
 * The encoders (f32 → these formats) live in src/tensor/codecs.ts.
 */

const scratchU32 = new Uint32Array(1);
const scratchF32 = new Float32Array(scratchU32.buffer);

/** bf16 is the upper half of an f32: shift the 16 bits back into place. */
export function bf16ToF32(bits: number): number {
  scratchU32[0] = (bits & 0xffff) << 16;
  return scratchF32[0]!;
}

/** Decode a float with `expBits` exponent bits and `manBits` mantissa bits (IEEE-like layout). */
function decodeMinifloat(code: number, expBits: number, manBits: number, bias: number, ieeeSpecials: boolean): number {
  const sign = (code >> (expBits + manBits)) & 1 ? -1 : 1;
  const e = (code >> manBits) & ((1 << expBits) - 1);
  const m = code & ((1 << manBits) - 1);
  const eMax = (1 << expBits) - 1;
  if (ieeeSpecials && e === eMax) return m === 0 ? sign * Infinity : NaN;
  // Subnormals have an implicit leading 0 and the exponent of the smallest normal.
  if (e === 0) return sign * m * 2 ** (1 - bias - manBits);
  return sign * (1 + m / (1 << manBits)) * 2 ** (e - bias);
}

let f16Table: Float32Array | null = null;
let e4m3Table: Float32Array | null = null;
let e5m2Table: Float32Array | null = null;

/** f16 (IEEE binary16) → f32 for all 65536 codes. */
export function f16DecodeTable(): Float32Array {
  return (f16Table ??= Float32Array.from({ length: 65536 }, (_, c) => decodeMinifloat(c, 5, 10, 15, true)));
}

/** fp8 e4m3fn → f32 (bias 7, no infinities, only S.1111.111 is NaN, max 448). */
export function e4m3DecodeTable(): Float32Array {
  return (e4m3Table ??= Float32Array.from({ length: 256 }, (_, c) => ((c & 0x7f) === 0x7f ? NaN : decodeMinifloat(c, 4, 3, 7, false))));
}

/** fp8 e5m2 → f32 (bias 15, IEEE-like: infinities and NaNs at exponent 31). */
export function e5m2DecodeTable(): Float32Array {
  return (e5m2Table ??= Float32Array.from({ length: 256 }, (_, c) => decodeMinifloat(c, 5, 2, 15, true)));
}
