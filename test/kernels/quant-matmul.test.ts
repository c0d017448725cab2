/** Fast quantised matmul ≡ reference for every weight kind, edge blocks, M on both paths. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { referenceKernels as ref } from '../../src/kernels/reference/index.ts';
import { weightReader } from '../../src/kernels/reference/quant-matmul.ts';
import type { Kernels, QuantMatmulArgs, QuantWeight } from '../../src/kernels/types.ts';
import { rng, randArray, wasmSets, nativeSets } from './helpers.ts';
import { encodeI4Codes } from '../../src/tensor/codecs.ts';

const wasm = wasmSets();
const sets = [...wasm, ...nativeSets()];
type Kind = QuantWeight['kind'];

/** Random codes of a kind; NaN/Inf codes excluded (the SIMD decode does not special-case them). */
function makeWeight(kind: Kind, N: number, K: number, r: () => number, block: [number, number] = [128, 128]): QuantWeight {
  const n = N * K;
  switch (kind) {
    case 'bf16':
    case 'f16': {
      const data = new Uint16Array(n);
      for (let i = 0; i < n; i++) {
        let c = Math.floor(r() * 65536);
        const expMask = kind === 'bf16' ? 0x7f80 : 0x7c00;
        if ((c & expMask) === expMask) c &= ~0x4000; // not Inf/NaN
        data[i] = c;
      }
      // Keep magnitudes sane for bf16 (random exponents span 1e±38): rescale the exponent range.
      if (kind === 'bf16') for (let i = 0; i < n; i++) data[i] = (data[i]! & 0x807f) | ((0x7c + ((data[i]! >> 7) & 0x7)) << 7);
      return { kind, data };
    }
    case 'e4m3':
    case 'e5m2': {
      const data = new Uint8Array(n);
      for (let i = 0; i < n; i++) {
        let c = Math.floor(r() * 256);
        if (kind === 'e4m3' && (c & 0x7f) === 0x7f) c = 0x7e;
        if (kind === 'e5m2' && (c & 0x7c) === 0x7c) c &= 0xf3;
        data[i] = c;
      }
      const [blockRows, blockCols] = block;
      const scaleInv = randArray(r, Math.ceil(N / blockRows) * Math.ceil(K / blockCols), 0.01);
      return { kind, data, scaleInv, blockRows, blockCols };
    }
    case 'i8': {
      const data = new Int8Array(n);
      for (let i = 0; i < n; i++) data[i] = Math.floor(r() * 256) - 128;
      // block[1] < K: 1×block[1] blocks (Q8-style); else one scale per row.
      const blockCols = block[1] < K ? block[1] : undefined;
      return { kind, data, scaleInv: randArray(r, N * Math.ceil(K / (blockCols ?? K)), 0.01), ...(blockCols ? { blockCols } : {}) };
    }
    case 'i4': {
      const codes = new Int8Array(n);
      for (let i = 0; i < n; i++) codes[i] = Math.floor(r() * 16) - 8;
      return { kind, data: encodeI4Codes(codes), scaleInv: randArray(r, (N * K) / 32, 0.01) };
    }
  }
}

/** Fast vs reference; the tolerance scales with Σ_k |x_k·w_nk| (f32 summation order). */
function check(k: Kernels, args: QuantMatmulArgs, label: string): void {
  const { M, N, K, X, xOffset, yOffset } = args;
  const want = args.Y.slice();
  ref.quantMatmul({ ...args, Y: want });
  const got = args.Y.slice();
  k.quantMatmul({ ...args, Y: got });
  const w = weightReader(args.W, N, K);
  for (let i = 0; i < got.length; i++) {
    const rel = i - yOffset;
    if (rel < 0 || rel >= M * N) {
      assert.equal(got[i], args.Y[i], `${label}: Y[${i}] outside the output changed`);
      continue;
    }
    const m = Math.floor(rel / N),
      n = rel % N;
    let bound = 0;
    for (let kk = 0; kk < K; kk++) bound += Math.abs(X[xOffset + m * K + kk]! * w(n, kk));
    const tol = (K + 4) * 1.2e-7 * bound + 1e-30;
    if (!(Math.abs(got[i]! - want[i]!) <= tol)) assert.fail(`${label}: Y[${m}, ${n}] = ${got[i]}, expected ${want[i]} (tol ${tol})`);
  }
}

function run(
  k: Kernels,
  kind: Kind,
  M: number,
  N: number,
  K: number,
  seed: number,
  opts: { block?: [number, number]; xScale?: number; offsets?: boolean } = {},
): void {
  const r = rng(seed);
  const W = makeWeight(kind, N, K, r, opts.block);
  const xOffset = opts.offsets ? 3 : 0,
    yOffset = opts.offsets ? 5 : 0;
  const X = randArray(r, xOffset + M * K, opts.xScale ?? 1);
  const Y = randArray(r, yOffset + M * N + 2);
  check(k, { M, N, K, X, xOffset, W, Y, yOffset }, `${kind} M=${M} N=${N} K=${K} ${JSON.stringify(opts)}`);
}

const kinds: Kind[] = ['bf16', 'f16', 'e4m3', 'e5m2', 'i8'];
// int4 needs whole 32-wide blocks per row.
const i4Shapes: [number, number][] = [
  [1, 32],
  [3, 64],
  [33, 96],
  [127, 32],
  [130, 256],
  [40, 512],
];
// N, K not multiples of the SIMD groups (8 / 16 codes), the row blocks or the fp8 blocks;
// K = 500 crosses a GEMM K block (M > 4 runs the packed GEMM with weights decoded in packing).
const shapes: [number, number][] = [
  [1, 1],
  [3, 17],
  [33, 130],
  [127, 33],
  [130, 257],
  [5, 300],
  [40, 500],
];

describe('quantMatmul: fast ≡ reference', () => {
  for (const { name, k } of sets) {
    for (const kind of kinds) {
      it(`${name}, ${kind}: mat-vec path (M ≤ 4) and GEMM path (M > 4)`, () => {
        let seed = 1;
        for (const M of [1, 2, 4, 5, 9]) {
          for (const [N, K] of shapes) run(k, kind, M, N, K, seed++, { offsets: seed % 2 === 0 });
        }
      });
    }
    it(`${name}, int8 in 1×32 blocks and int4 blocks: mat-vec and GEMM paths`, () => {
      let seed = 300;
      for (const M of [1, 2, 3, 5, 9, 17]) {
        for (const [N, K] of shapes) run(k, 'i8', M, N, K, seed++, { block: [1, 32], offsets: seed % 2 === 0 });
        for (const [N, K] of i4Shapes) run(k, 'i4', M, N, K, seed++, { offsets: seed % 2 === 0 });
      }
    });
    it(`${name}, fp8: partial edge blocks, small blocks, blocks not a multiple of 16 (scalar path)`, () => {
      let seed = 100;
      for (const kind of ['e4m3', 'e5m2'] as const) {
        for (const block of [
          [128, 128],
          [32, 32],
          [16, 48],
          [7, 20],
          [3, 1],
        ] as [number, number][]) {
          for (const M of [1, 3, 6]) run(k, kind, M, 70, 200, seed++, { block });
        }
      }
    });
    it(`${name}, fp8: large activations take the unscaled decode`, () => {
      // |x| ≥ 2^7 (e4m3) / 2^15 (e5m2) cannot carry the 2^(127−bias) factor.
      run(k, 'e4m3', 2, 40, 96, 7, { xScale: 1000 });
      run(k, 'e5m2', 2, 40, 96, 8, { xScale: 1e6 });
      run(k, 'e4m3', 1, 40, 96, 9, { xScale: 100 });
    });
  }
  it('reuses the resident copy of a weight, also through a new view of the same bytes', () => {
    const k = wasm[1]!.k;
    const r = rng(5);
    const W = makeWeight('bf16', 64, 96, r) as { kind: 'bf16'; data: Uint16Array };
    const X = randArray(r, 96);
    const y1 = new Float32Array(64),
      y2 = new Float32Array(64),
      y3 = new Float32Array(64);
    k.quantMatmul({ M: 1, N: 64, K: 96, X, xOffset: 0, W, Y: y1, yOffset: 0 });
    k.quantMatmul({ M: 1, N: 64, K: 96, X, xOffset: 0, W, Y: y2, yOffset: 0 });
    const view = new Uint16Array(W.data.buffer, W.data.byteOffset, W.data.length);
    k.quantMatmul({ M: 1, N: 64, K: 96, X, xOffset: 0, W: { kind: 'bf16', data: view }, Y: y3, yOffset: 0 });
    assert.deepEqual(y2, y1);
    assert.deepEqual(y3, y1);
  });
  it('rejects too few codes or scales', () => {
    const k = sets[0]!.k;
    const X = new Float32Array(8),
      Y = new Float32Array(8);
    assert.throws(
      () => k.quantMatmul({ M: 1, N: 2, K: 4, X, xOffset: 0, W: { kind: 'bf16', data: new Uint16Array(7) }, Y, yOffset: 0 }),
      RangeError,
    );
    assert.throws(
      () =>
        k.quantMatmul({
          M: 1,
          N: 2,
          K: 4,
          X,
          xOffset: 0,
          W: { kind: 'i8', data: new Int8Array(8), scaleInv: new Float32Array(1) },
          Y,
          yOffset: 0,
        }),
      RangeError,
    );
  });
  it('the comparison catches a wrong element', () => {
    const broken: Kernels = {
      ...ref,
      quantMatmul: (a) => {
        ref.quantMatmul(a);
        a.Y[a.yOffset + 1] += 1e-3;
      },
    };
    assert.throws(() => run(broken, 'bf16', 2, 5, 7, 1), /expected/);
  });
});
