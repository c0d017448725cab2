/**
 * Fine-grained FP8 quantisation (DeepSeek-V3 §3.3.2): one scale per 1×128 *tile* of an activation or
 * gradient (per row, per 128 consecutive values along the GEMM's contraction axis) and one per
 * 128×128 *block* of a weight, so an outlier only coarsens its own tile or block instead of the whole
 * tensor. Scales are online: s = amax / 448 (448 = e4m3's largest finite value), and the stored value
 * is e4m3(x / s), so the tile's largest magnitude lands on 448 and nothing overflows.
 *
 * On a CPU without FP8 units the quantised values are kept as their exact f32 decodings (every e4m3
 * value is an f32, and the product of two has at most 8 significant bits, so it too is exact in f32):
 * a GEMM over them with f32 accumulation computes what an FP8 tensor core does. Rounding is
 * round-to-nearest-even, bit for bit what the codecs' `e4m3FromF32` (PyTorch's cast) gives.
 *
 * GEMM operands are stored *chunk-major*: the 128-wide slices of the contraction axis one after
 * another, so the chunked GEMM (./gemm.ts) hands each slice to the kernel as one dense block.
 */
import { e4m3FromF32, f32FromE4m3 } from '../../tensor/codecs.ts';
import type { FloatArray } from '../../kernels/types.ts';

/** e4m3fn's largest finite magnitude. */
export const E4M3_MAX = 448;
/** Tile length along the contraction axis, and the weight block edge (DeepSeek-V3's choice). */
export const FP8_TILE = 128;

/**
 * One GEMM operand in FP8: `rows` × `cols` e4m3 values (exact f32 decodings), `cols` being the
 * contraction axis, with one scale per (row, 128-chunk of cols). For a block-quantised weight the
 * scale is its block's, repeated over the block's rows.
 */
export interface Fp8Operand {
  rows: number;
  cols: number;
  /**
   * Chunk-major values: chunk c (columns 128c … 128c + w − 1, w = min(128, cols − 128c)) is a
   * rows × w row-major block starting at rows · 128 · c.
   */
  q: Float32Array;
  /** rows × chunks scales (chunks = ⌈cols / 128⌉): the real value is q · scale. */
  scale: Float32Array;
}

/** A weight quantised in 128×128 blocks: e4m3 values (row-major) and one scale per block. */
export interface Fp8BlockWeight {
  rows: number;
  cols: number;
  /** Exact e4m3 values, rows × cols row-major. */
  q: Float32Array;
  /** ⌈rows/128⌉ × ⌈cols/128⌉ scales, row-major over blocks. */
  blockScale: Float32Array;
}

export function chunksOf(n: number): number {
  return Math.ceil(n / FP8_TILE);
}

/** Width of chunk c of an axis of length n. */
function widthOf(n: number, c: number): number {
  return Math.min(FP8_TILE, n - c * FP8_TILE);
}

/** The online scale for a group with largest magnitude `amax` (0 for an all-zero group). */
export function scaleFor(amax: number): number {
  return Math.fround(amax / E4M3_MAX);
}

/**
 * Whether the fast rounding applies to a group: finite values and a normal-f32 scale, so that
 * |x / s| ≤ 448·(1 + 2^-23) stays inside e4m3's finite range.
 */
function plain(amax: number, s: number): boolean {
  return amax < Infinity && (s === 0 || s >= 2 ** -126);
}

const TWO_POW_52 = 4503599627370496;

/**
 * Rounds q[from..to), which holds x / s already rounded to f32, to e4m3 in place: nearest, ties to
 * even, bit for bit the codecs' `e4m3FromF32` then `f32FromE4m3`. `qBits` is q's Uint32Array view.
 * With s = amax/448 every |x / s| is ≤ 448·(1 + 2^-23), inside e4m3's finite range; a group holding
 * NaN or ±∞ (or with a subnormal scale) takes the codec's own path (`plain` is false), which maps
 * out-of-range values to NaN as PyTorch does.
 */
function roundRun(q: Float32Array, qBits: Uint32Array, from: number, to: number, plain: boolean): void {
  if (!plain) {
    for (let i = from; i < to; i++) q[i] = f32FromE4m3(e4m3FromF32(q[i]!));
    return;
  }
  for (let i = from; i < to; i++) {
    const u = qBits[i]!;
    const a = u & 0x7fffffff;
    if (a >= 0x3c800000) {
      // Normal (≥ 2^-6): keep 3 mantissa bits, round the 20 dropped ones half to even.
      qBits[i] = (u & 0x80000000) | ((a + 0x7ffff + ((a >>> 20) & 1)) & 0xfff00000);
    } else {
      // Subnormal: multiples of 2^-9, ties to even (adding 2^52 pushes the fraction out of a double).
      const n = Math.abs(q[i]!) * 512 + TWO_POW_52 - TWO_POW_52;
      q[i] = (u & 0x80000000 ? -n : n) / 512;
    }
  }
}

/** x [rows, cols] row-major, quantised with 1×128 tiles along cols (the contraction axis). */
export function quantizeTiles(x: FloatArray, rows: number, cols: number): Fp8Operand {
  const nc = chunksOf(cols);
  const q = new Float32Array(rows * cols);
  const qBits = new Uint32Array(q.buffer);
  const scale = new Float32Array(rows * nc);
  for (let c = 0; c < nc; c++) {
    const lo = c * FP8_TILE;
    const w = widthOf(cols, c);
    const base = rows * FP8_TILE * c;
    for (let r = 0; r < rows; r++) {
      const src = r * cols + lo;
      let amax = 0;
      for (let j = 0; j < w; j++) {
        const v = Math.abs(x[src + j]!);
        if (v > amax || v !== v) amax = v; // NaN, once seen, stays (as torch.amax)
      }
      const s = scaleFor(amax);
      scale[r * nc + c] = s;
      const dst = base + r * w;
      if (s === 0) continue; // an all-zero tile stays zero
      for (let j = 0; j < w; j++) q[dst + j] = x[src + j]! / s;
      roundRun(q, qBits, dst, dst + w, plain(amax, s));
    }
  }
  return { rows, cols, q, scale };
}

/**
 * xᵀ for x [rows, cols] row-major, quantised with tiles of 128 consecutive *rows* of x (128×1 tiles
 * of x): the operand a weight-gradient GEMM needs, whose contraction axis is the token axis.
 * Returns a [cols, rows] operand.
 */
export function quantizeTilesTransposed(x: FloatArray, rows: number, cols: number): Fp8Operand {
  const nc = chunksOf(rows);
  const q = new Float32Array(rows * cols);
  const qBits = new Uint32Array(q.buffer);
  const scale = new Float32Array(cols * nc);
  const amax = new Float64Array(cols);
  for (let c = 0; c < nc; c++) {
    const r0 = c * FP8_TILE;
    const w = widthOf(rows, c);
    const base = cols * FP8_TILE * c;
    amax.fill(0);
    for (let r = r0; r < r0 + w; r++) {
      const src = r * cols;
      for (let k = 0; k < cols; k++) {
        const v = Math.abs(x[src + k]!);
        if (v > amax[k]! || v !== v) amax[k] = v;
      }
    }
    // Column by column of this 128-row slab (which stays in cache): one contiguous run of q each.
    for (let k = 0; k < cols; k++) {
      const s = scaleFor(amax[k]!);
      scale[k * nc + c] = s;
      if (s === 0) continue;
      const dst = base + k * w;
      for (let i = 0, src = r0 * cols + k; i < w; i++, src += cols) q[dst + i] = x[src]! / s;
      roundRun(q, qBits, dst, dst + w, plain(amax[k]!, s));
    }
  }
  return { rows: cols, cols: rows, q, scale };
}

/** w [rows, cols] row-major with one scale per 128×128 block. */
export function quantizeBlocks(w: FloatArray, rows: number, cols: number): Fp8BlockWeight {
  const br = chunksOf(rows);
  const bc = chunksOf(cols);
  const q = new Float32Array(rows * cols);
  const qBits = new Uint32Array(q.buffer);
  const blockScale = new Float32Array(br * bc);
  for (let i = 0; i < br; i++) {
    const r0 = i * FP8_TILE;
    const r1 = r0 + widthOf(rows, i);
    for (let j = 0; j < bc; j++) {
      const c0 = j * FP8_TILE;
      const c1 = c0 + widthOf(cols, j);
      let amax = 0;
      for (let r = r0; r < r1; r++) {
        for (let c = c0; c < c1; c++) {
          const v = Math.abs(w[r * cols + c]!);
          if (v > amax || v !== v) amax = v;
        }
      }
      const s = scaleFor(amax);
      blockScale[i * bc + j] = s;
      if (s === 0) continue;
      for (let r = r0; r < r1; r++) {
        for (let c = c0; c < c1; c++) q[r * cols + c] = w[r * cols + c]! / s;
        roundRun(q, qBits, r * cols + c0, r * cols + c1, plain(amax, s));
      }
    }
  }
  return { rows, cols, q, blockScale };
}

/** The block weight as a GEMM operand contracting over its columns (forward: y = x·Wᵀ). */
export function blockOperand(w: Fp8BlockWeight): Fp8Operand {
  const { rows, cols } = w;
  const nc = chunksOf(cols);
  const q = new Float32Array(rows * cols);
  const scale = new Float32Array(rows * nc);
  for (let c = 0; c < nc; c++) {
    const width = widthOf(cols, c);
    const base = rows * FP8_TILE * c;
    for (let r = 0; r < rows; r++) {
      q.set(w.q.subarray(r * cols + c * FP8_TILE, r * cols + c * FP8_TILE + width), base + r * width);
      scale[r * nc + c] = w.blockScale[Math.floor(r / FP8_TILE) * nc + c]!;
    }
  }
  return { rows, cols, q, scale };
}

/**
 * Wᵀ as a GEMM operand contracting over W's rows (input gradient: dX = dY·W). A 128×128 block is a
 * block either way round, so the forward's quantisation is reused as is: no second rounding.
 */
export function blockOperandTransposed(w: Fp8BlockWeight): Fp8Operand {
  const { rows, cols } = w;
  const nc = chunksOf(rows); // chunks along the new contraction axis (W's rows)
  const bcOld = chunksOf(cols);
  const q = new Float32Array(rows * cols);
  const scale = new Float32Array(cols * nc);
  for (let c = 0; c < nc; c++) {
    const r0 = c * FP8_TILE;
    const width = widthOf(rows, c);
    const base = cols * FP8_TILE * c;
    for (let r = r0; r < r0 + width; r++) {
      const src = r * cols;
      const dst = base + (r - r0);
      for (let k = 0; k < cols; k++) q[dst + k * width] = w.q[src + k]!;
    }
    for (let k = 0; k < cols; k++) scale[k * nc + c] = w.blockScale[c * bcOld + Math.floor(k / FP8_TILE)]!;
  }
  return { rows: cols, cols: rows, q, scale };
}

/** The e4m3 values of an operand in plain row-major order (rows × cols): for tests and reports. */
export function operandValues(o: Fp8Operand): Float32Array {
  const nc = chunksOf(o.cols);
  const out = new Float32Array(o.rows * o.cols);
  for (let c = 0; c < nc; c++) {
    const width = widthOf(o.cols, c);
    const base = o.rows * FP8_TILE * c;
    for (let r = 0; r < o.rows; r++) out.set(o.q.subarray(base + r * width, base + (r + 1) * width), r * o.cols + c * FP8_TILE);
  }
  return out;
}

/** The real values an operand stands for (q · scale), rows × cols row-major: for tests and reports. */
export function dequantizeOperand(o: Fp8Operand): Float32Array {
  const nc = chunksOf(o.cols);
  const out = operandValues(o);
  for (let r = 0; r < o.rows; r++) {
    for (let c = 0; c < o.cols; c++) out[r * o.cols + c]! *= o.scale[r * nc + Math.floor(c / FP8_TILE)]!;
  }
  return out;
}
