/**
 * The two FP8 formats of "FP8 Formats for Deep Learning" (Micikevicius et al., 2022), with PyTorch's
 * rules (c10 Float8_e4m3fn / Float8_e5m2), which the `codecs.safetensors` fixture pins bit for bit:
 *
 * - e4m3fn (1-4-3, bias 7): no infinities; S.1111.111 is NaN, max finite 448. Encoding rounds to
 *   nearest even; anything that rounds above 448 (|x| > 464, and ±inf) becomes NaN with x's sign
 *   (0x7F / 0xFF), as does NaN. Decoding NaN gives f32 bits sign|0x7FF00000, what c10's branch-free
 *   decoder yields (exponent all ones ORed over 448's mantissa bits).
 * - e5m2 (1-5-2, bias 15): an IEEE-style format, the top byte of an f16. Encoding rounds to nearest
 *   even and overflows to ±inf (|x| ≥ 61440 rounds past 57344); NaN becomes 0x7F/0xFF. Decoding
 *   widens through f16, so 0x7F is f32 0x7FE00000.
 *
 * DeepSeek-V3's released weights are e4m3fn with one f32 scale per 128×128 block.
 */
import { destination, f32Bits, f32FromBits, rintNonNegative, u32View } from './bits.ts';
import { f32BitsFromF16 } from './f16.ts';

/** e4m3fn bits of `x` (first rounded to f32). */
export function e4m3FromF32(x: number): number {
  return e4m3FromBits(f32Bits(x));
}

/** e5m2 bits of `x` (first rounded to f32). */
export function e5m2FromF32(x: number): number {
  return e5m2FromBits(f32Bits(x));
}

/** f32 value of the e4m3fn byte `bits`. */
export function f32FromE4m3(bits: number): number {
  return f32FromBits(e4m3Table()[bits & 0xff]!);
}

/** f32 value of the e5m2 byte `bits`. */
export function f32FromE5m2(bits: number): number {
  return f32FromBits(e5m2Table()[bits & 0xff]!);
}

function e4m3FromBits(u: number): number {
  const sign = (u >>> 24) & 0x80;
  const a = u & 0x7fffffff;
  if (a >= 0x43f00000) return sign | 0x7f; // ≥ 480 (so also inf and NaN): NaN, e4m3fn has no inf
  if (a >= 0x3c800000) {
    // Normal (≥ 2^-6): rebias 127 → 7 and round the 20 dropped bits half-to-even. Values in
    // (464, 480) round up into the NaN code, as in c10.
    const r = a - ((127 - 7) << 23) + 0x7ffff + ((a >>> 20) & 1);
    return sign | (r >>> 20);
  }
  return sign | rintNonNegative(f32FromBits(a) * 512); // subnormal: units of 2^-9
}

function e5m2FromBits(u: number): number {
  const sign = (u >>> 24) & 0x80;
  const a = u & 0x7fffffff;
  if (a > 0x7f800000) return sign | 0x7f; // NaN
  if (a >= 0x47800000) return sign | 0x7c; // ≥ 65536 (and inf): inf
  if (a >= 0x38800000) {
    // Normal (≥ 2^-14): rebias 127 → 15, round 21 dropped bits half-to-even; may carry into inf.
    const r = a - ((127 - 15) << 23) + 0xfffff + ((a >>> 21) & 1);
    return sign | (r >>> 21);
  }
  return sign | rintNonNegative(f32FromBits(a) * 65536); // subnormal: units of 2^-16
}

function e4m3Bits(b: number): number {
  const sign = (b & 0x80) << 24;
  const e = (b >>> 3) & 0xf;
  const m = b & 7;
  if (e === 15 && m === 7) return (sign | 0x7ff00000) >>> 0;
  const value = e === 0 ? m * 2 ** -9 : (1 + m / 8) * 2 ** (e - 7);
  return (sign | f32Bits(value)) >>> 0;
}

let e4m3Lut: Uint32Array | undefined;
let e5m2Lut: Uint32Array | undefined;

/** The 256 e4m3fn decodings as f32 bits, built on first use. */
function e4m3Table(): Uint32Array {
  if (e4m3Lut === undefined) {
    e4m3Lut = new Uint32Array(256);
    for (let b = 0; b < 256; b++) e4m3Lut[b] = e4m3Bits(b);
  }
  return e4m3Lut;
}

/** The 256 e5m2 decodings as f32 bits (the f16 with this byte on top), built on first use. */
function e5m2Table(): Uint32Array {
  if (e5m2Lut === undefined) {
    e5m2Lut = new Uint32Array(256);
    for (let b = 0; b < 256; b++) e5m2Lut[b] = f32BitsFromF16(b << 8);
  }
  return e5m2Lut;
}

/** Encodes each f32 of `src` to e4m3fn bytes, into `dst` when given (same length) or a new array. */
export function encodeE4m3(src: Float32Array, dst?: Uint8Array): Uint8Array {
  const out = destination(dst, src.length, (n) => new Uint8Array(n), 'encodeE4m3');
  const bits = u32View(src);
  for (let i = 0; i < bits.length; i++) out[i] = e4m3FromBits(bits[i]!);
  return out;
}

/** Encodes each f32 of `src` to e5m2 bytes, into `dst` when given (same length) or a new array. */
export function encodeE5m2(src: Float32Array, dst?: Uint8Array): Uint8Array {
  const out = destination(dst, src.length, (n) => new Uint8Array(n), 'encodeE5m2');
  const bits = u32View(src);
  for (let i = 0; i < bits.length; i++) out[i] = e5m2FromBits(bits[i]!);
  return out;
}

/** Decodes e4m3fn bytes to f32, into `dst` when given or a new array. */
export function decodeE4m3(src: Uint8Array, dst?: Float32Array): Float32Array {
  return decodeByTable(src, dst, e4m3Table(), 'decodeE4m3');
}

/** Decodes e5m2 bytes to f32, into `dst` when given or a new array. */
export function decodeE5m2(src: Uint8Array, dst?: Float32Array): Float32Array {
  return decodeByTable(src, dst, e5m2Table(), 'decodeE5m2');
}

function decodeByTable(src: Uint8Array, dst: Float32Array | undefined, t: Uint32Array, what: string): Float32Array {
  const out = destination(dst, src.length, (n) => new Float32Array(n), what);
  const bits = u32View(out);
  for (let i = 0; i < src.length; i++) bits[i] = t[src[i]!]!;
  return out;
}
