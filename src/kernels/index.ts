/**
 * The active kernel set, chosen on first use:
 * - native (C++ addon: GEMM and quantised matmul on weights in place, any model size) over the
 *   WASM set for the other loops, when the addon is built;
 * - else WASM (SIMD + worker threads; also the portable and browser path);
 * - else the reference, after a one-line note on stderr.
 * `setKernels` lets tests and benchmarks pick one explicitly. Env: DSTS_KERNELS=native|wasm|reference
 * forces a backend; DSTS_THREADS sets the thread count; DSTS_RELAXED_SIMD=0 avoids relaxed SIMD.
 */
import type { Kernels } from './types.ts';
import { referenceKernels } from './reference/index.ts';
import { loadWasmKernelsSync, wasmFailure } from './wasm/index.ts';
import { loadNativeAddon, nativeFailure } from './native/addon.ts';
import { createNativeKernels } from './native/kernels.ts';

let active: Kernels | null = null;

export function getKernels(): Kernels {
  if (!active) {
    const want = process.env.DSTS_KERNELS;
    const wasm = loadWasmKernelsSync();
    const native = loadNativeAddon();
    if (native) {
      const threads = Number(process.env.DSTS_THREADS);
      if (Number.isInteger(threads) && threads > 0) native.setThreads(threads);
      active = createNativeKernels(native, wasm ?? referenceKernels);
    } else {
      if (want === 'native') console.warn(`deepseek-ts: native kernels unavailable (${nativeFailure()})`);
      if (!wasm && want !== 'reference') console.warn(`deepseek-ts: WASM kernels unavailable (${wasmFailure()}); using reference kernels`);
      active = wasm ?? referenceKernels;
    }
  }
  return active;
}

/** Loads the fast kernels (falling back to the reference) and makes them active. */
export async function initKernels(): Promise<Kernels> {
  return getKernels();
}

export function setKernels(k: Kernels): void {
  active = k;
}

export { referenceKernels };
export { allocKernelArray, freeKernelArray } from './wasm/index.ts';
export { loadNativeAddon, nativeFailure } from './native/addon.ts';
export type * from './types.ts';
