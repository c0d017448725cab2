/** Shared helpers for the kernel tests: seeded random data, closeness checks, kernel sets. */
import assert from 'node:assert/strict';
import { after } from 'node:test';
import type { Kernels } from '../../src/kernels/types.ts';
import { createWasmKernelSet } from '../../src/kernels/wasm/index.ts';
import { loadNativeAddon, nativeFailure } from '../../src/kernels/native/addon.ts';
import { createNativeKernels } from '../../src/kernels/native/kernels.ts';
import { referenceKernels } from '../../src/kernels/reference/index.ts';

/** mulberry32: small, fast, seeded; tests must be reproducible. */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** n uniform values in [−scale, scale). */
export function randArray(r: () => number, n: number, scale = 1): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = (r() * 2 - 1) * scale;
  return a;
}

/**
 * |actual − expected| ≤ atol + rtol·|expected| elementwise (NaN must match NaN, ±∞ must match).
 * `what` names the case in the failure message.
 */
export function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string, rtol = 1e-5, atol = 1e-6): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    if (Number.isNaN(e) || !Number.isFinite(e)) {
      assert.ok(Object.is(a, e) || (Number.isNaN(a) && Number.isNaN(e)), `${what}[${i}]: got ${a}, expected ${e}`);
      continue;
    }
    const tol = atol + rtol * Math.abs(e);
    if (!(Math.abs(a - e) <= tol)) assert.fail(`${what}[${i}]: got ${a}, expected ${e} (|diff| ${Math.abs(a - e)} > ${tol})`);
  }
}

/** Largest |x|, the scale for absolute tolerances. */
export function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) if (Number.isFinite(a[i]!)) m = Math.max(m, Math.abs(a[i]!));
  return m;
}

/**
 * WASM kernel sets: both builds (relaxed SIMD with fused multiply-add, and plain SIMD, whose GEMM
 * micro-tiles differ), one thread and several (three: more than this machine's cores is fine,
 * and an odd count exercises uneven chunk sharing). Closed after the test file.
 */
export function wasmSets(): { name: string; k: Kernels }[] {
  const sets = [
    { name: 'relaxed, 1 thread', ...createWasmKernelSet(1) },
    { name: 'relaxed, 3 threads', ...createWasmKernelSet(3) },
    { name: 'plain, 2 threads', ...createWasmKernelSet(2, { relaxed: false }) },
  ];
  after(() => {
    for (const s of sets) s.runtime.close();
  });
  return sets.map((s) => ({ name: `${s.kernels.name} (${s.name})`, k: s.kernels }));
}

/**
 * Native kernel sets, when the addon is built (CI builds it at `npm ci`): the SIMD loops with one
 * thread and three, and the portable loops they are held to. Empty, with a note, where it is not.
 */
export function nativeSets(): { name: string; k: Kernels }[] {
  const addon = loadNativeAddon();
  if (!addon) {
    console.warn(`native kernels not tested: ${nativeFailure()}`);
    return [];
  }
  const base = referenceKernels;
  const sets = [{ name: 'generic, 2 threads', k: createNativeKernels(addon, base, { isa: 'generic', threads: 2 }) }];
  if (addon.useIsa('avx2')) {
    sets.push({ name: 'avx2, 1 thread', k: createNativeKernels(addon, base, { isa: 'avx2', threads: 1 }) });
    sets.push({ name: 'avx2, 3 threads', k: createNativeKernels(addon, base, { isa: 'avx2', threads: 3 }) });
  }
  return sets.map((s) => ({ name: `native ${s.name}`, k: s.k }));
}
