/**
 * Bit-level helpers shared by the codecs: reinterpreting an f32 as its IEEE-754 bits and back, and
 * round-half-to-even to an integer. Kept apart so each codec file holds only its format's rules.
 */

const scratchF32 = new Float32Array(1);
const scratchU32 = new Uint32Array(scratchF32.buffer);

/** The 32 bits of `x` rounded to f32 (as an unsigned integer). */
export function f32Bits(x: number): number {
  scratchF32[0] = x;
  return scratchU32[0]!;
}

/** The f32 whose bits are `bits` (NaN payloads may not survive the trip through a JS number). */
export function f32FromBits(bits: number): number {
  scratchU32[0] = bits;
  return scratchF32[0]!;
}

const TWO_POW_52 = 4503599627370496;

/**
 * Rounds a non-negative number below 2^52 to the nearest integer, ties to even. Adding 2^52 pushes
 * the fraction bits out of a double's mantissa, and the FPU rounds them away half-to-even; this is
 * exactly the rounding the hardware does for f32 subnormal conversions, without double rounding.
 */
export function rintNonNegative(v: number): number {
  return v + TWO_POW_52 - TWO_POW_52;
}

/**
 * Views a Float32Array's storage as raw bits, so whole-array codecs read and write NaN payloads
 * exactly instead of going through JS numbers.
 */
export function u32View(a: Float32Array): Uint32Array {
  return new Uint32Array(a.buffer, a.byteOffset, a.length);
}

/** Checks that a caller-supplied destination has the source's length; returns it or a fresh array. */
export function destination<T extends { length: number }>(dst: T | undefined, n: number, make: (n: number) => T, what: string): T {
  if (dst === undefined) return make(n);
  if (dst.length !== n) throw new RangeError(`${what}: destination has ${dst.length} elements, source has ${n}`);
  return dst;
}
