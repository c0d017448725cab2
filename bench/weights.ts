/** Synthetic weights for the kernel benchmark: Gaussian values, bf16 and block-scaled fp8 codes. */
import { e4m3DecodeTable } from '../src/kernels/decode-tables.ts';

/** n standard-normal values (Box–Muller). */
export function gaussian(n: number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i += 2) {
    const r = Math.sqrt(-2 * Math.log(1 - Math.random()));
    const t = 2 * Math.PI * Math.random();
    a[i] = r * Math.cos(t);
    if (i + 1 < n) a[i + 1] = r * Math.sin(t);
  }
  return a;
}

/** bf16 codes by truncation (rounding does not matter for timing). */
export function toBf16(a: Float32Array): Uint16Array {
  const u = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const out = new Uint16Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = u[i]! >>> 16;
  return out;
}

/**
 * e4m3 codes with one scale per block×block tile, as DeepSeek-V3 stores them: each tile scaled so
 * its largest |value| maps to 448, then rounded to the nearest code.
 */
export function encodeE4m3Blocks(a: Float32Array, N: number, K: number, block: number): { data: Uint8Array; scaleInv: Float32Array } {
  const table = e4m3DecodeTable();
  const pos = Array.from(table.subarray(0, 0x7f)); // codes 0..126, increasing
  const bpr = Math.ceil(K / block);
  const scaleInv = new Float32Array(Math.ceil(N / block) * bpr);
  const data = new Uint8Array(N * K);
  for (let bn = 0; bn < N; bn += block) {
    for (let bk = 0; bk < K; bk += block) {
      let max = 0;
      for (let n = bn; n < Math.min(N, bn + block); n++)
        for (let k = bk; k < Math.min(K, bk + block); k++) max = Math.max(max, Math.abs(a[n * K + k]!));
      const s = max > 0 ? max / 448 : 1;
      scaleInv[(bn / block) * bpr + bk / block] = s;
      for (let n = bn; n < Math.min(N, bn + block); n++) {
        for (let k = bk; k < Math.min(K, bk + block); k++) {
          const v = a[n * K + k]! / s;
          const m = Math.abs(v);
          let lo = 0,
            hi = pos.length - 1;
          while (hi - lo > 1) {
            const mid = (lo + hi) >> 1;
            if (pos[mid]! <= m) lo = mid;
            else hi = mid;
          }
          const c = m - pos[lo]! <= pos[hi]! - m ? lo : hi;
          data[n * K + k] = c | (v < 0 ? 0x80 : 0);
        }
      }
    }
  }
  return { data, scaleInv };
}
