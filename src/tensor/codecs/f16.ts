/**
 * IEEE binary16 (1 sign, 5 exponent, 10 mantissa bits, max 65504). Encoding rounds to nearest, ties
 * to even, with gradual underflow and overflow to ±inf (65520 and above round to inf). A NaN stays a
 * quiet NaN with its sign and the top 9 payload bits, as the x86 F16C instruction PyTorch uses does;
 * the canonical f32 NaN becomes 0x7E00.
 */
import { destination, f32Bits, f32FromBits, rintNonNegative, u32View } from './bits.ts';

/** f16 bits of `x` (first rounded to f32). */
export function f16FromF32(x: number): number {
  return f16FromBits(f32Bits(x));
}

/** f32 value of the f16 `bits` (exact: every f16 is an f32). */
export function f32FromF16(bits: number): number {
  return f32FromBits(f32BitsFromF16(bits & 0xffff));
}

function f16FromBits(u: number): number {
  const sign = (u >>> 16) & 0x8000;
  const a = u & 0x7fffffff;
  if (a > 0x7f800000) return sign | 0x7e00 | ((a >>> 13) & 0x3ff);
  if (a >= 0x477ff000) return sign | 0x7c00; // ≥ 65520: rounds past 65504 to inf (and inf itself)
  if (a >= 0x38800000) {
    // Normal f16 (≥ 2^-14): rebias the exponent and round the 13 dropped bits half-to-even.
    const r = a - ((127 - 15) << 23) + 0xfff + ((a >>> 13) & 1);
    return sign | (r >>> 13);
  }
  // Subnormal f16: units of 2^-24. The f32 value times 2^24 is exact in a double; round it once.
  // A result of 0x400 is the smallest normal, whose bit pattern is exactly 0x400.
  return sign | rintNonNegative(f32FromBits(a) * 16777216);
}

/** The f32 bits of the f16 `h` (payload-exact, unlike going through a JS number). */
export function f32BitsFromF16(h: number): number {
  const sign = (h & 0x8000) << 16;
  const e = (h >>> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0x1f) return (sign | 0x7f800000 | (m << 13)) >>> 0; // inf, NaN with payload widened
  if (e !== 0) return (sign | ((e + 112) << 23) | (m << 13)) >>> 0;
  if (m === 0) return sign >>> 0;
  return (sign | f32Bits(m * 5.960464477539063e-8)) >>> 0; // m × 2^-24, exact in f32
}

/** All 65536 decodings as f32 bits, built on first use: decoding becomes one table lookup. */
let table: Uint32Array | undefined;
function f16Table(): Uint32Array {
  if (table === undefined) {
    table = new Uint32Array(65536);
    for (let h = 0; h < 65536; h++) table[h] = f32BitsFromF16(h);
  }
  return table;
}

/** Encodes each f32 of `src` to f16 bits, into `dst` when given (same length) or a new array. */
export function encodeF16(src: Float32Array, dst?: Uint16Array): Uint16Array {
  const out = destination(dst, src.length, (n) => new Uint16Array(n), 'encodeF16');
  const bits = u32View(src);
  for (let i = 0; i < bits.length; i++) out[i] = f16FromBits(bits[i]!);
  return out;
}

/** Decodes f16 bits to f32 (NaN payloads kept), into `dst` when given or a new array. */
export function decodeF16(src: Uint16Array, dst?: Float32Array): Float32Array {
  const out = destination(dst, src.length, (n) => new Float32Array(n), 'decodeF16');
  const bits = u32View(out);
  const t = f16Table();
  for (let i = 0; i < src.length; i++) bits[i] = t[src[i]!]!;
  return out;
}
