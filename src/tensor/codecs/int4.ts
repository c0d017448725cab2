/**
 * 4-bit codes in 32-wide blocks, the layout of `i4` weights: each block is 16 bytes; byte i holds
 * element i in its low nibble and element i + 16 in its high nibble, each stored as code + 8 (so
 * 0..15 stand for −8..7). Decoding gives the codes; the block scale is applied by the caller.
 */
export const I4_BLOCK = 32;

/** The first `n` codes (row-major, n a multiple of 32 per row) as f32 values −8..7. */
export function decodeI4Codes(bytes: Uint8Array, n: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const b = Math.floor(i / I4_BLOCK);
    const j = i % I4_BLOCK;
    const byte = bytes[b * 16 + (j & 15)]!;
    out[i] = (j < 16 ? byte & 15 : byte >> 4) - 8;
  }
  return out;
}

/** Packs codes −8..7 (n a multiple of 32) into the block layout. */
export function encodeI4Codes(codes: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(codes.length / 2);
  for (let i = 0; i < codes.length; i++) {
    const b = Math.floor(i / I4_BLOCK);
    const j = i % I4_BLOCK;
    const v = (codes[i]! + 8) & 15;
    out[b * 16 + (j & 15)]! |= j < 16 ? v : v << 4;
  }
  return out;
}
