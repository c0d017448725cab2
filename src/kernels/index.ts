/**
 * The active kernel set. `getKernels()` returns the fast (WASM SIMD + threads) implementation when it
 * loads, else the reference; `setKernels` lets tests and benchmarks pick one explicitly.
 */
import type { Kernels } from './types.ts';
import { referenceKernels } from './reference/index.ts';

let active: Kernels | null = null;

export function getKernels(): Kernels {
  return (active ??= referenceKernels);
}

export function setKernels(k: Kernels): void {
  active = k;
}

export { referenceKernels };
export type * from './types.ts';
