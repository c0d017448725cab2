/** What every op needs: the runtime, the resident-weight cache, and the build's GEMM tiling. */
import type { FloatArray } from '../../types.ts';
import type { Residency } from '../residency.ts';
import type { Runtime } from '../runtime.ts';

/** Micro-tile (MR×NR) and widest C tile of the loaded build. */
export interface TileLimits {
  MR: number;
  NR: number;
  TN_MAX: number;
}

export interface Ctx {
  rt: Runtime;
  residency: Residency;
  limits: TileLimits;
}

/** Work below which waking the workers costs more than it saves. */
export const PAR_FLOPS = 4e6;
export const PAR_ELEMS = 32768;
/** Elements per chunk for row-wise / elementwise ops. */
export const CHUNK_ELEMS = 16384;

/** Whether every given array is f32 (the fast paths' type; f64 goes to the reference). */
export const isF32 = (...xs: (FloatArray | undefined)[]) => xs.every((x) => x === undefined || x instanceof Float32Array);

/** Rows per chunk for row-wise ops: about CHUNK_ELEMS values. */
export function rowsPerChunk(cols: number): number {
  return Math.max(1, Math.floor(CHUNK_ELEMS / Math.max(1, cols)));
}
