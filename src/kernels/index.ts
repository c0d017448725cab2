/**
 * The active kernel set. `getKernels()` returns the fast (WASM SIMD + threads) implementation when
 * it loads — synchronously, on first use — else the reference, after a one-line note on stderr.
 * `setKernels` lets tests and benchmarks pick one explicitly. Env: DSTS_KERNELS=reference forces
 * the reference; DSTS_THREADS sets the thread count; DSTS_RELAXED_SIMD=0 avoids relaxed SIMD.
 */
import type { Kernels } from './types.ts';
import { referenceKernels } from './reference/index.ts';
import { loadWasmKernelsSync, wasmFailure } from './wasm/index.ts';

let active: Kernels | null = null;

export function getKernels(): Kernels {
  if (!active) {
    const fast = loadWasmKernelsSync();
    if (!fast && process.env.DSTS_KERNELS !== 'reference') {
      console.warn(`deepseek-ts: WASM kernels unavailable (${wasmFailure()}); using reference kernels`);
    }
    active = fast ?? referenceKernels;
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
export type * from './types.ts';
