/** Reference quantised matmul: Y = X · Wᵀ with W (N×K) decoded element by element. */
import { QUANT_BLOCK, type QuantMatmulArgs, type QuantWeight } from '../types.ts';
import { roundHalfEven } from './quantize.ts';
import { bf16ToF32, e4m3DecodeTable, e5m2DecodeTable, f16DecodeTable } from '../decode-tables.ts';

/** Returns a function giving the dequantised value of W[n, k] (decode × scale). */
export function weightReader(W: QuantWeight, N: number, K: number): (n: number, k: number) => number {
  switch (W.kind) {
    case 'bf16':
      return (n, k) => bf16ToF32(W.data[n * K + k]!);
    case 'f16': {
      const t = f16DecodeTable();
      return (n, k) => t[W.data[n * K + k]!]!;
    }
    case 'e4m3':
    case 'e5m2': {
      const t = W.kind === 'e4m3' ? e4m3DecodeTable() : e5m2DecodeTable();
      const { blockRows, blockCols, scaleInv, data } = W;
      // Scales are row-major over blocks; edge blocks are partial.
      const blocksPerRow = Math.ceil(K / blockCols);
      return (n, k) => t[data[n * K + k]!]! * scaleInv[Math.floor(n / blockRows) * blocksPerRow + Math.floor(k / blockCols)]!;
    }
    case 'i8': {
      const bc = W.blockCols ?? K;
      const blocksPerRow = Math.ceil(K / bc);
      return (n, k) => W.data[n * K + k]! * W.scaleInv[n * blocksPerRow + Math.floor(k / bc)]!;
    }
    case 'i4': {
      const { data, scaleInv } = W;
      const blocksPerRow = K / QUANT_BLOCK;
      return (n, k) => {
        const b = Math.floor(k / QUANT_BLOCK);
        const j = k % QUANT_BLOCK;
        const byte = data[n * (K / 2) + b * 16 + (j & 15)]!;
        return ((j < 16 ? byte & 15 : byte >> 4) - 8) * scaleInv[n * blocksPerRow + b]!;
      };
    }
  }
}

/** Checks that the weight's buffers are as large as N×K (and its scales) say. */
export function checkQuantWeight(W: QuantWeight, N: number, K: number): void {
  if (W.kind === 'i4') {
    if (K % QUANT_BLOCK !== 0) throw new RangeError(`quantMatmul: int4 weights need K % ${QUANT_BLOCK} == 0, got K = ${K}`);
    if (W.data.length < (N * K) / 2) throw new RangeError(`quantMatmul: int4 weight has ${W.data.length} bytes, need ${(N * K) / 2}`);
    if (W.scaleInv.length < (N * K) / QUANT_BLOCK)
      throw new RangeError(`quantMatmul: ${(N * K) / QUANT_BLOCK} block scales needed, got ${W.scaleInv.length}`);
    return;
  }
  if (W.data.length < N * K) throw new RangeError(`quantMatmul: weight has ${W.data.length} values, need ${N}×${K}`);
  if (W.kind === 'e4m3' || W.kind === 'e5m2') {
    const need = Math.ceil(N / W.blockRows) * Math.ceil(K / W.blockCols);
    if (W.scaleInv.length < need) throw new RangeError(`quantMatmul: ${need} block scales needed, got ${W.scaleInv.length}`);
  } else if (W.kind === 'i8' && W.scaleInv.length < N * Math.ceil(K / (W.blockCols ?? K))) {
    throw new RangeError(`quantMatmul: ${N * Math.ceil(K / (W.blockCols ?? K))} int8 scales needed, got ${W.scaleInv.length}`);
  }
}

/** Whether a weight multiplies int8-rounded activations (see types.ts `QuantWeight`). */
export function usesIntProduct(W: QuantWeight, K: number): boolean {
  return W.kind === 'i4' || (W.kind === 'i8' && (W.blockCols ?? K) === QUANT_BLOCK);
}

/** One row of activations rounded to int8 per 32-block, as the weights are (scale amax/127, half to even). */
export function roundActivations(X: ArrayLike<number>, offset: number, K: number): { q: Int8Array; d: Float32Array } {
  const nb = Math.ceil(K / QUANT_BLOCK);
  const q = new Int8Array(K);
  const d = new Float32Array(nb);
  const f = Math.fround;
  for (let b = 0; b < nb; b++) {
    const k0 = b * QUANT_BLOCK;
    const k1 = Math.min(K, k0 + QUANT_BLOCK);
    let amax = 0;
    for (let k = k0; k < k1; k++) amax = Math.max(amax, Math.abs(f(X[offset + k]!)));
    const s = f(amax / 127);
    const inv = s > 0 ? f(1 / s) : 0;
    d[b] = s;
    for (let k = k0; k < k1; k++) q[k] = roundHalfEven(f(f(X[offset + k]!) * inv));
  }
  return { q, d };
}

export function quantMatmul(a: QuantMatmulArgs): void {
  const { M, N, K, X, xOffset, W, Y, yOffset } = a;
  checkQuantWeight(W, N, K);
  if (usesIntProduct(W, K)) return intProduct(a);
  const w = weightReader(W, N, K);
  for (let m = 0; m < M; m++) {
    for (let n = 0; n < N; n++) {
      let acc = 0;
      for (let k = 0; k < K; k++) acc += X[xOffset + m * K + k]! * w(n, k);
      Y[yOffset + m * N + n] = acc;
    }
  }
}

/**
 * int8 (1×32 blocks) and int4 weights: each activation row is rounded to int8 per 32-block and the
 * products are taken block by block in integers, then scaled by both blocks' scales — as llama.cpp's
 * Q8_0 / Q4_0 dot products do, and as the fast kernels must.
 */
function intProduct(a: QuantMatmulArgs): void {
  const { M, N, K, X, xOffset, W, Y, yOffset } = a;
  const w = weightReader(W, N, K);
  const nb = Math.ceil(K / QUANT_BLOCK);
  const scaleInv = (W as { scaleInv: Float32Array }).scaleInv;
  for (let m = 0; m < M; m++) {
    const { q, d } = roundActivations(X, xOffset + m * K, K);
    for (let n = 0; n < N; n++) {
      let acc = 0;
      for (let b = 0; b < nb; b++) {
        const ws = scaleInv[n * nb + b]!;
        let dot = 0;
        // The weight's code is its value over its block's scale (exact for these integer kinds).
        for (let k = b * QUANT_BLOCK; k < Math.min(K, (b + 1) * QUANT_BLOCK); k++) dot += q[k]! * (ws === 0 ? 0 : Math.round(w(n, k) / ws));
        acc += dot * Math.fround(d[b]! * ws);
      }
      Y[yOffset + m * N + n] = acc;
    }
  }
}
