/**
 * Loading the WASM kernels: synchronous (the module is small enough for `new WebAssembly.Module`),
 * so `getKernels()` can switch to them lazily. Returns null, with the reason, when they cannot
 * load (not built, no SIMD/threads in this runtime, or DSTS_KERNELS=reference).
 */
import type { Kernels } from '../types.ts';
import { createWasmKernels } from './kernels.ts';
import { Runtime, defaultThreads } from './runtime.ts';

const BUILD_DIR = new URL('../../../build/', import.meta.url);

let runtime: Runtime | null = null;
let kernels: Kernels | null = null;
let failure: string | null = null;

/** Loads (once) and returns the WASM kernel set, or null; `wasmFailure()` then says why. */
export function loadWasmKernelsSync(): Kernels | null {
  if (kernels || failure) return kernels;
  if (process.env.DSTS_KERNELS === 'reference') {
    failure = 'DSTS_KERNELS=reference';
    return null;
  }
  try {
    runtime = new Runtime(BUILD_DIR, defaultThreads());
    kernels = createWasmKernels(runtime);
  } catch (e) {
    failure = (e as Error).message.split('\n')[0]!;
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') failure = 'build/kernels.wasm missing (run `npm run build`)';
  }
  return kernels;
}

/** Async form of loadWasmKernelsSync (kept for callers that prefer to await initialisation). */
export async function loadWasmKernels(): Promise<Kernels | null> {
  return loadWasmKernelsSync();
}

/** Why the WASM kernels did not load (null if they did or were not tried). */
export function wasmFailure(): string | null {
  return failure;
}

/** The loaded runtime (for benchmarks and tests: thread count, memory, zero-copy allocation). */
export function wasmRuntime(): Runtime | null {
  return runtime;
}

/**
 * A separate kernel set with its own memory and `threads` threads (tests compare thread counts
 * and builds; `relaxed: false` forces the plain-SIMD build). Call `close()` on the returned
 * runtime when done.
 */
export function createWasmKernelSet(threads: number, opts: { relaxed?: boolean } = {}): { kernels: Kernels; runtime: Runtime } {
  const rt = new Runtime(BUILD_DIR, threads, opts.relaxed ?? true);
  return { kernels: createWasmKernels(rt), runtime: rt };
}

/**
 * A zero-filled Float32Array of n values living in kernel memory: kernels read and write it in
 * place, skipping the copy in/out (worth it for large operands of bandwidth-bound ops). It stays
 * valid until `freeKernelArray(a)`; do not use it, or any view of it, after that.
 * Returns a plain Float32Array when the WASM kernels are not loaded.
 */
export function allocKernelArray(n: number): Float32Array {
  const rt = runtime ?? (loadWasmKernelsSync(), runtime);
  if (!rt) return new Float32Array(n);
  const p = rt.arena.alloc(n * 4);
  const a = new Float32Array(rt.memory.buffer, p, n);
  a.fill(0);
  return a;
}

/** Frees an array from allocKernelArray (a no-op for plain arrays). */
export function freeKernelArray(a: Float32Array): void {
  if (runtime?.owns(a)) runtime.arena.release(a.byteOffset);
}
