/**
 * Reference weight quantisation (the oracle for the native loops, which give the same codes and
 * scales bit for bit): block amax → f32 scale, codes rounded half to even, all arithmetic in f32.
 */
import type { FloatWeight, QuantScheme, QuantWeight } from '../types.ts';
import { QUANT_BLOCK } from '../types.ts';
import { bf16ToF32, f16DecodeTable } from '../decode-tables.ts';
import { encodeE4m3, encodeI4Codes } from '../../tensor/codecs.ts';

const f = Math.fround;

/** Round half to even, as C's nearbyint in the default rounding mode. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** Row n of W as f32 values. */
function rowOf(W: FloatWeight, n: number, K: number): Float32Array {
  const out = new Float32Array(K);
  const base = n * K;
  if (W.kind === 'f32') out.set(W.data.subarray(base, base + K));
  else if (W.kind === 'bf16') for (let k = 0; k < K; k++) out[k] = bf16ToF32(W.data[base + k]!);
  else {
    const t = f16DecodeTable();
    for (let k = 0; k < K; k++) out[k] = t[W.data[base + k]!]!;
  }
  return out;
}

export function quantize(W: FloatWeight, N: number, K: number, scheme: QuantScheme): QuantWeight {
  if (scheme === 'fp8') return quantizeFp8(W, N, K, 128, 128);
  const nb = Math.ceil(K / QUANT_BLOCK);
  const scaleInv = new Float32Array(N * nb);
  if (scheme === 'q4' && K % QUANT_BLOCK !== 0) throw new RangeError(`q4 needs K % ${QUANT_BLOCK} == 0, got K = ${K}`);
  const codes = new Int8Array(N * K);
  for (let n = 0; n < N; n++) {
    const row = rowOf(W, n, K);
    for (let b = 0; b < nb; b++) {
      const k0 = b * QUANT_BLOCK;
      const k1 = Math.min(K, k0 + QUANT_BLOCK);
      if (scheme === 'q8') {
        let amax = 0;
        for (let k = k0; k < k1; k++) amax = Math.max(amax, Math.abs(row[k]!));
        const d = f(amax / 127);
        const inv = d > 0 ? f(1 / d) : 0;
        scaleInv[n * nb + b] = d;
        for (let k = k0; k < k1; k++) codes[n * K + k] = roundHalfEven(f(row[k]! * inv));
      } else {
        // Q4_0: the value of largest magnitude maps exactly to code −8.
        let mx = 0;
        for (let k = k0; k < k1; k++) if (Math.abs(row[k]!) > Math.abs(mx)) mx = row[k]!;
        const d = f(mx / -8);
        const inv = d !== 0 ? f(1 / d) : 0;
        scaleInv[n * nb + b] = d;
        for (let k = k0; k < k1; k++) codes[n * K + k] = Math.min(15, Math.max(0, roundHalfEven(f(row[k]! * inv)) + 8)) - 8;
      }
    }
  }
  if (scheme === 'q8') return { kind: 'i8', data: codes, scaleInv, blockCols: QUANT_BLOCK };
  return { kind: 'i4', data: encodeI4Codes(codes), scaleInv };
}

/** e4m3 codes with one scale per br×bc block: scale = amax / 448 (1 for an all-zero block). */
function quantizeFp8(W: FloatWeight, N: number, K: number, br: number, bc: number): QuantWeight {
  const nbr = Math.ceil(N / br);
  const nbc = Math.ceil(K / bc);
  const scaleInv = new Float32Array(nbr * nbc);
  const data = new Uint8Array(N * K);
  const rows: Float32Array[] = [];
  for (let n = 0; n < N; n++) rows.push(rowOf(W, n, K));
  const scaled = new Float32Array(1);
  const code = new Uint8Array(1);
  for (let rb = 0; rb < nbr; rb++) {
    for (let cb = 0; cb < nbc; cb++) {
      const r0 = rb * br,
        r1 = Math.min(N, r0 + br),
        c0 = cb * bc,
        c1 = Math.min(K, c0 + bc);
      let amax = 0;
      for (let n = r0; n < r1; n++) for (let k = c0; k < c1; k++) amax = Math.max(amax, Math.abs(rows[n]![k]!));
      const s = amax > 0 ? f(amax / 448) : 1;
      const inv = f(1 / s);
      scaleInv[rb * nbc + cb] = s;
      for (let n = r0; n < r1; n++) {
        for (let k = c0; k < c1; k++) {
          scaled[0] = rows[n]![k]! * inv;
          data[n * K + k] = encodeE4m3(scaled, code)[0]!;
        }
      }
    }
  }
  return { kind: 'e4m3', data, scaleInv, blockRows: br, blockCols: bc };
}
