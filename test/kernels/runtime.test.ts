/** The WASM runtime: arena, kernel selection and env overrides, zero-copy arrays, process exit. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Arena } from '../../src/kernels/wasm/arena.ts';
import { WA } from '../../src/kernels/wasm/wasm-api.ts';
import { JOB } from '../../src/kernels/wasm/layout.ts';
import { allocKernelArray, createWasmKernelSet, freeKernelArray, wasmRuntime } from '../../src/kernels/wasm/index.ts';
import { getKernels, loadNativeAddon } from '../../src/kernels/index.ts';
import { referenceKernels as ref } from '../../src/kernels/reference/index.ts';
import { assertClose, rng, randArray } from './helpers.ts';
import { PATIENCE_MS } from '../helpers/patience.ts';

const child = fileURLToPath(new URL('./child-load.ts', import.meta.url));

function runChild(env: Record<string, string>): { out: { name: string; threads: number; c: number }; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', child], {
    env: { ...process.env, ...env },
    encoding: 'utf8',
    timeout: PATIENCE_MS,
  });
  assert.equal(r.status, 0, `child failed: ${r.stderr}`);
  return { out: JSON.parse(r.stdout), stderr: r.stderr };
}

describe('arena', () => {
  it('aligns, reuses freed blocks, coalesces, and grows the memory', () => {
    const mem = new WA.Memory({ initial: 1, maximum: 64, shared: true });
    const a = new Arena(mem, 1024, 64 * 65536);
    const p1 = a.alloc(10),
      p2 = a.alloc(100),
      p3 = a.alloc(1000);
    for (const p of [p1, p2, p3]) assert.equal(p % 64, 0);
    assert.ok(p1 >= 1024 && p2 >= p1 + 64 && p3 >= p2 + 128);
    a.release(p2);
    assert.equal(a.alloc(64), p2, 'first fit reuses the hole');
    a.release(p1);
    a.release(p2);
    assert.equal(a.alloc(128), p1, 'neighbouring holes merge');
    const big = a.alloc(200000);
    assert.ok(mem.buffer.byteLength >= big + 200000, 'memory grew');
    assert.throws(() => a.alloc(64 * 65536), RangeError);
    assert.throws(() => a.release(12345), /bad pointer/);
  });
});

describe('kernel selection', () => {
  it('getKernels() picks the native kernels (over WASM for the other loops) synchronously, where built', () => {
    assert.match(getKernels().name, loadNativeAddon() ? /^native-(avx2|generic)\+wasm-simd/ : /^wasm-simd/);
  });
  it('DSTS_KERNELS=wasm forces the WASM kernels', () => {
    const { out } = runChild({ DSTS_KERNELS: 'wasm' });
    assert.match(out.name, /^wasm-simd/);
    assert.equal(out.c, 128);
  });
  it('DSTS_THREADS sets the thread count; the process exits with idle workers', () => {
    // Exiting at all is the check (a child kept alive by idle workers hits the timeout: status null).
    const { out } = runChild({ DSTS_THREADS: '3' });
    assert.equal(out.threads, 3);
    assert.equal(out.c, 128);
  });
  it('DSTS_KERNELS=reference forces the reference', () => {
    const { out } = runChild({ DSTS_KERNELS: 'reference' });
    assert.equal(out.name, 'reference');
    assert.equal(out.c, 128);
  });
});

describe('kernel arrays', () => {
  it('arrays from allocKernelArray are used in place and give the same results', () => {
    const k = getKernels();
    const rt = wasmRuntime()!;
    const r = rng(1);
    const A = allocKernelArray(37 * 41),
      B = allocKernelArray(41 * 29),
      C = allocKernelArray(37 * 29);
    assert.ok(rt.owns(A) && rt.owns(B) && rt.owns(C));
    A.set(randArray(r, A.length));
    B.set(randArray(r, B.length));
    const args = {
      M: 37,
      N: 29,
      K: 41,
      transA: false,
      transB: false,
      alpha: 1,
      beta: 0,
      A,
      aOffset: 0,
      lda: 41,
      B,
      bOffset: 0,
      ldb: 29,
      C,
      cOffset: 0,
      ldc: 29,
    };
    k.gemm(args);
    const want = new Float32Array(37 * 29);
    ref.gemm({ ...args, A: A.slice(), B: B.slice(), C: want });
    assertClose(C, want, 'C', 1e-5, 1e-5);
    // In-place rmsNorm on a kernel array.
    const x = allocKernelArray(3 * 8);
    x.set(randArray(r, 24));
    const w = new Float32Array(8).fill(1);
    const expect = new Float32Array(24);
    ref.rmsNorm(x.slice(), w, expect, 3, 8, 1e-6);
    k.rmsNorm(x, w, x, 3, 8, 1e-6);
    assertClose(x, expect, 'rmsNorm in place', 1e-5, 1e-6);
    for (const a of [A, B, C, x]) freeKernelArray(a);
  });
});

describe('dispatch', () => {
  it('back-to-back jobs of different sizes never mix (late workers, uneven chunks)', () => {
    const { kernels: k, runtime } = createWasmKernelSet(3);
    try {
      const r = rng(3);
      const sizes = [40000, 200000, 33000, 1, 70000];
      const inputs = sizes.map((n) => ({ g: randArray(r, n, 4), u: randArray(r, n) }));
      const want = inputs.map(({ g, u }) => {
        const o = new Float32Array(g.length);
        ref.siluMul(g, u, o, g.length);
        return o;
      });
      for (let round = 0; round < 40; round++) {
        const i = round % sizes.length;
        const out = new Float32Array(sizes[i]!);
        k.siluMul(inputs[i]!.g, inputs[i]!.u, out, sizes[i]!);
        assertClose(out, want[i]!, `round ${round}`, 2e-6, 1e-7);
      }
    } finally {
      runtime.close();
    }
  });
});

describe('failure', () => {
  it('a trapping job fails the call, disables the runtime, and later calls use the reference', () => {
    const { kernels: k, runtime } = createWasmKernelSet(2);
    try {
      // siluMul chunks reading 4 GiB past the start of memory: every thread traps.
      assert.throws(() => runtime.dispatch(JOB.SILUMUL, 8, true, (i) => i.set([0x7ffffff0, 0x7ffffff0, 0x7ffffff0, 8 * 16384, 16384])));
      assert.ok(runtime.broken);
      const g = Float32Array.from([1, -2, 3]),
        u = Float32Array.from([2, 2, 2]);
      const got = new Float32Array(3),
        want = new Float32Array(3);
      k.siluMul(g, u, got, 3);
      ref.siluMul(g, u, want, 3);
      assert.deepEqual(got, want);
    } finally {
      runtime.close();
    }
  });
});

describe('resident weights', () => {
  it('stay correct when the budget forces evictions', () => {
    process.env.DSTS_RESIDENT_MB = '1';
    const { kernels: k, runtime } = createWasmKernelSet(2);
    delete process.env.DSTS_RESIDENT_MB;
    try {
      const r = rng(2);
      const N = 256,
        K = 1024; // 512 KiB of bf16 each: two do not fit in 1 MiB with anything else
      const weights = [0, 1, 2].map(() => ({
        kind: 'bf16' as const,
        data: Uint16Array.from({ length: N * K }, () => 0x3c00 + Math.floor(r() * 0x800)),
      }));
      const X = randArray(r, K);
      for (let round = 0; round < 2; round++) {
        for (const W of weights) {
          const got = new Float32Array(N),
            want = new Float32Array(N);
          k.quantMatmul({ M: 1, N, K, X, xOffset: 0, W, Y: got, yOffset: 0 });
          ref.quantMatmul({ M: 1, N, K, X, xOffset: 0, W, Y: want, yOffset: 0 });
          assertClose(got, want, 'Y', 1e-4, 1e-4);
        }
      }
      // A weight larger than the whole budget is copied in per call instead.
      const huge = {
        kind: 'i8' as const,
        data: Int8Array.from({ length: 1200 * K }, () => Math.floor(r() * 256) - 128),
        scaleInv: new Float32Array(1200).fill(0.01),
      };
      const got = new Float32Array(1200),
        want = new Float32Array(1200);
      k.quantMatmul({ M: 1, N: 1200, K, X, xOffset: 0, W: huge, Y: got, yOffset: 0 });
      ref.quantMatmul({ M: 1, N: 1200, K, X, xOffset: 0, W: huge, Y: want, yOffset: 0 });
      assertClose(got, want, 'Y (streamed)', 1e-4, 1e-4);
    } finally {
      runtime.close();
    }
  });
});
