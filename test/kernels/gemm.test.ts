/** Fast GEMM ≡ reference GEMM over odd shapes, all transposes, offsets, leading dims, alpha/beta. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { referenceKernels as ref } from '../../src/kernels/reference/index.ts';
import type { GemmArgs, Kernels } from '../../src/kernels/types.ts';
import { rng, randArray, wasmSets, nativeSets } from './helpers.ts';

const sets = [...wasmSets(), ...nativeSets()];

interface Case {
  M: number;
  N: number;
  K: number;
  transA: boolean;
  transB: boolean;
  alpha: number;
  beta: number;
  pad: boolean; // offsets and leading dimensions larger than the matrix
}

function makeArgs(c: Case, seed: number): GemmArgs {
  const r = rng(seed);
  const [ar, ac] = c.transA ? [c.K, c.M] : [c.M, c.K];
  const [br, bc] = c.transB ? [c.N, c.K] : [c.K, c.N];
  const extra = () => (c.pad ? 1 + Math.floor(r() * 5) : 0);
  const lda = ac + extra(),
    ldb = bc + extra(),
    ldc = c.N + extra();
  const aOffset = extra(),
    bOffset = extra(),
    cOffset = extra();
  const A = randArray(r, aOffset + ar * lda);
  const B = randArray(r, bOffset + br * ldb);
  // beta = 0 must not read C: fill it with NaN so a read would show.
  const C = c.beta === 0 ? new Float32Array(cOffset + c.M * ldc + 3).fill(NaN) : randArray(r, cOffset + c.M * ldc + 3);
  return { ...c, A, aOffset, lda, B, bOffset, ldb, C, cOffset, ldc };
}

/** Compares k.gemm with the reference; tolerance from the sum of |terms| (f32 summation order). */
function check(k: Kernels, c: Case, seed: number): void {
  const args = makeArgs(c, seed);
  const want = { ...args, C: args.C.slice() };
  ref.gemm(want);
  // Error bound per element: |alpha|·|A|·|B| + |beta|·|C|.
  const abs = (x: Float32Array) => x.map((v) => (Number.isNaN(v) ? 0 : Math.abs(v)));
  const bound = {
    ...args,
    A: abs(args.A as Float32Array),
    B: abs(args.B as Float32Array),
    C: abs(args.C as Float32Array),
    alpha: Math.abs(c.alpha),
    beta: Math.abs(c.beta),
  };
  ref.gemm(bound);
  const got = { ...args, C: args.C.slice() };
  k.gemm(got);
  const label = JSON.stringify(c);
  for (let i = 0; i < got.C.length; i++) {
    const rel = i - args.cOffset;
    const inside = rel >= 0 && Math.floor(rel / args.ldc) < c.M && rel % args.ldc < c.N;
    const a = got.C[i]!,
      e = want.C[i]!;
    if (!inside) {
      assert.ok(Object.is(a, e) || (Number.isNaN(a) && Number.isNaN(e)), `${label}: C[${i}] outside the matrix changed (${e} → ${a})`);
      continue;
    }
    const tol = (c.K + 4) * 1.2e-7 * bound.C[i]! + 1e-30;
    if (!(Math.abs(a - e) <= tol)) assert.fail(`${label}: C[${i}] = ${a}, expected ${e} (tol ${tol})`);
  }
}

// Odd sizes around the micro-tiles (3×12 relaxed, 4×8 plain), the blocks (MC 48/64, KC 384,
// TN 504/512: K = 401 and 800 cross K blocks, N = 520 crosses C tiles) and the skinny path (M ≤ 4).
const shapes: [number, number, number][] = [
  [1, 1, 1],
  [1, 17, 33],
  [3, 130, 127],
  [4, 33, 5],
  [5, 4, 300],
  [17, 3, 130],
  [33, 33, 33],
  [127, 130, 17],
  [130, 127, 3],
  [64, 64, 64],
  [257, 131, 401],
  [70, 520, 40],
  [2, 600, 70],
  [50, 30, 800],
];

describe('gemm: fast ≡ reference', () => {
  for (const { name, k } of sets) {
    for (const transA of [false, true]) {
      for (const transB of [false, true]) {
        it(`${name}, transA=${transA}, transB=${transB}`, () => {
          let seed = 1;
          for (const [M, N, K] of shapes) {
            const variant = seed % 3;
            const alpha = variant === 1 ? -0.7 : 1;
            const beta = variant === 0 ? 0 : variant === 1 ? 1 : 0.5;
            check(k, { M, N, K, transA, transB, alpha, beta, pad: seed % 2 === 0 }, seed++);
          }
        });
      }
    }
    it(`${name}: K = 0 scales C by beta; M = 0 and N = 0 do nothing`, () => {
      check(k, { M: 5, N: 6, K: 0, transA: false, transB: false, alpha: 1, beta: 0.5, pad: true }, 99);
      check(k, { M: 5, N: 6, K: 0, transA: true, transB: false, alpha: 1, beta: 0, pad: false }, 98);
      check(k, { M: 0, N: 6, K: 3, transA: false, transB: true, alpha: 1, beta: 0.5, pad: true }, 97);
      check(k, { M: 6, N: 0, K: 3, transA: false, transB: true, alpha: 1, beta: 0.5, pad: true }, 96);
    });
    it(`${name}: a larger product split into many tiles`, () => {
      check(k, { M: 300, N: 700, K: 300, transA: false, transB: true, alpha: 1, beta: 0, pad: false }, 7);
    });
  }
  it('rejects buffers too small for the shape', () => {
    const args = makeArgs({ M: 4, N: 4, K: 4, transA: false, transB: false, alpha: 1, beta: 0, pad: false }, 5);
    for (const { k } of sets) {
      assert.throws(() => k.gemm({ ...args, A: new Float32Array(15) }), RangeError);
      assert.throws(() => k.gemm({ ...args, lda: 3 }), RangeError);
    }
  });
  it('the comparison catches a wrong element', () => {
    const broken: Kernels = {
      ...ref,
      gemm: (g) => {
        ref.gemm(g);
        g.C[g.cOffset + g.ldc + 1] += 1e-3;
      },
    };
    assert.throws(() => check(broken, { M: 5, N: 5, K: 5, transA: false, transB: false, alpha: 1, beta: 0, pad: true }, 3), /expected/);
  });
  it('f64 operands go to the reference (bit-identical)', () => {
    const args = makeArgs({ M: 9, N: 7, K: 5, transA: true, transB: false, alpha: 0.5, beta: 0.25, pad: true }, 11);
    const f64 = { ...args, A: Float64Array.from(args.A), B: Float64Array.from(args.B), C: Float64Array.from(args.C) };
    const want = { ...f64, C: f64.C.slice() };
    ref.gemm(want);
    sets[1]!.k.gemm(f64);
    assert.deepEqual(f64.C, want.C);
  });
});
