// Weight decoding: scalar (through the exact lookup tables) and rows of f32 for GEMM packing.
import { LUT_E4M3, LUT_E5M2, LUT_F16, W_BF16, W_E4M3, W_E5M2, W_F16, W_F32, W_I8 } from './layout';
import { chunkAddr, chunksPerRow, codeBytes, tileRows } from './tiles';

/** Where the weight and its scales live, and how it is encoded. */
@unmanaged export class WeightDesc {
  kind: i32 = 0;
  data: usize = 0; // N×K codes: row-major, or in row tiles (tiles.ts) when `tiled`
  K: i32 = 0; // row length (codes)
  scales: usize = 0; // f32: per block (fp8) or per row (i8)
  blockRows: i32 = 1;
  blockCols: i32 = 1;
  blocksPerRow: i32 = 1; // ceil(K / blockCols)
  tiled: bool = false;
  tileRows: i32 = 1; // R
  chunks: i32 = 0; // C: 16-byte chunks per row

  /** Fills the descriptor (it lives in scratch memory, so fields are set explicitly). */
  init(kind: i32, data: usize, K: i32, scales: usize, blockRows: i32, blockCols: i32, tiled: bool): void {
    this.kind = kind;
    this.data = data;
    this.K = K;
    this.scales = scales;
    this.blockRows = blockRows;
    this.blockCols = blockCols;
    this.blocksPerRow = blockCols > 0 ? (K + blockCols - 1) / blockCols : 1;
    this.tiled = tiled;
    this.tileRows = tileRows(kind);
    this.chunks = chunksPerRow(kind, K);
  }
}

/** Scale of W[n, k] (1 for unscaled kinds). */
// @ts-ignore: decorator
@inline export function scaleAt(w: WeightDesc, n: i32, k: i32): f32 {
  if (w.kind == W_I8) return load<f32>(w.scales + (<usize>n << 2));
  if (w.kind == W_E4M3 || w.kind == W_E5M2) {
    return load<f32>(w.scales + (<usize>((n / w.blockRows) * w.blocksPerRow + k / w.blockCols) << 2));
  }
  return 1;
}

/** Address of code W[n, k] (row-major or tiled). */
// @ts-ignore: decorator
@inline function codeAddr(w: WeightDesc, n: i32, k: i32): usize {
  const b = codeBytes(w.kind);
  if (!w.tiled) return w.data + (<usize>n * <usize>w.K + <usize>k) * <usize>b;
  const G = 16 / b;
  return chunkAddr(w.data, w.tileRows, w.chunks, n, k / G) + <usize>((k % G) * b);
}

/** Exact decoded code (without scale) of W[n, k]. */
export function decodeAt(w: WeightDesc, n: i32, k: i32): f32 {
  if (w.kind == W_F32) return load<f32>(w.data + ((<usize>n * <usize>w.K + <usize>k) << 2));
  const p = codeAddr(w, n, k);
  switch (w.kind) {
    case W_BF16: return reinterpret<f32>(<u32>load<u16>(p) << 16);
    case W_F16: return load<f32>(<usize>load<u32>(LUT_F16) + (<usize>load<u16>(p) << 2));
    case W_E4M3: return load<f32>(<usize>load<u32>(LUT_E4M3) + (<usize>load<u8>(p) << 2));
    case W_E5M2: return load<f32>(<usize>load<u32>(LUT_E5M2) + (<usize>load<u8>(p) << 2));
    default: return <f32>load<i8>(p);
  }
}

/** Decodes the 16-byte chunk at p (kind's codes, times scale s) into dst as f32, SIMD. */
// @ts-ignore: decorator
@inline function decodeChunk(kind: i32, p: usize, s: f32, dst: usize): void {
  if (kind == W_BF16) {
    const v = v128.load(p);
    v128.store(dst, i32x4.shl(i32x4.extend_low_i16x8_u(v), 16));
    v128.store(dst, i32x4.shl(i32x4.extend_high_i16x8_u(v), 16), 16);
  } else if (kind == W_F16) {
    // Through the exact table (Inf/NaN included): packing is not the hot loop.
    const lut = <usize>load<u32>(LUT_F16);
    for (let j: usize = 0; j < 8; j++) store<f32>(dst + (j << 2), load<f32>(lut + (<usize>load<u16>(p + (j << 1)) << 2)));
  } else if (kind == W_I8) {
    const v = v128.load(p), vs = f32x4.splat(s);
    const lo = i16x8.extend_low_i8x16_s(v), hi = i16x8.extend_high_i8x16_s(v);
    v128.store(dst, f32x4.mul(f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_s(lo)), vs));
    v128.store(dst, f32x4.mul(f32x4.convert_i32x4_s(i32x4.extend_high_i16x8_s(lo)), vs), 16);
    v128.store(dst, f32x4.mul(f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_s(hi)), vs), 32);
    v128.store(dst, f32x4.mul(f32x4.convert_i32x4_s(i32x4.extend_high_i16x8_s(hi)), vs), 48);
  } else {
    // fp8: a code in the top byte of a 16-bit lane, shifted right arithmetically and masked, is
    // the upper half of an f32 equal to the code's value · 2^(bias−127) (exact, subnormals too).
    const e4 = kind == W_E4M3;
    const shift = e4 ? 4 : 3;
    const m16 = i16x8.splat(e4 ? <i16>0x87f0 : <i16>0x8fe0);
    const p2 = f32x4.splat(e4 ? 1.329227995784916e36 : 5.192296858534828e33); // 2^120, 2^112
    const vs = f32x4.splat(s);
    const v = v128.load(p);
    const lo = v128.and(i16x8.shr_s(i16x8.shl(i16x8.extend_low_i8x16_u(v), 8), shift), m16);
    const hi = v128.and(i16x8.shr_s(i16x8.shl(i16x8.extend_high_i8x16_u(v), 8), shift), m16);
    v128.store(dst, f32x4.mul(f32x4.mul(i32x4.shl(i32x4.extend_low_i16x8_u(lo), 16), p2), vs));
    v128.store(dst, f32x4.mul(f32x4.mul(i32x4.shl(i32x4.extend_high_i16x8_u(lo), 16), p2), vs), 16);
    v128.store(dst, f32x4.mul(f32x4.mul(i32x4.shl(i32x4.extend_low_i16x8_u(hi), 16), p2), vs), 32);
    v128.store(dst, f32x4.mul(f32x4.mul(i32x4.shl(i32x4.extend_high_i16x8_u(hi), 16), p2), vs), 48);
  }
}

/**
 * dst[0..len) = dequantised W[n, k0 .. k0+len) (decode × scale), as f32. Tiled weights go a
 * chunk at a time (k0 a multiple of the chunk's codes; a chunk never straddles an fp8 scale
 * block, as tiling requires blockCols % 16 = 0); the rest one code at a time.
 */
export function decodeRow(w: WeightDesc, n: i32, k0: i32, len: i32, dst: usize): void {
  let k = 0;
  const G = 16 / codeBytes(w.kind);
  if (w.tiled && k0 % G == 0) {
    let c = k0 / G;
    for (; k + G <= len; k += G) {
      decodeChunk(w.kind, chunkAddr(w.data, w.tileRows, w.chunks, n, c++), scaleAt(w, n, k0 + k), dst + (<usize>k << 2));
    }
  }
  for (; k < len; k++) store<f32>(dst + (<usize>k << 2), decodeAt(w, n, k0 + k) * scaleAt(w, n, k0 + k));
}
