/**
 * Job-descriptor layout in shared memory, as seen from JS. Mirrors assembly/layout.ts (the
 * WASM side reads the same words): change both together.
 */

/** Control words, as indices into an Int32Array over the memory. */
export const CTRL = {
  GEN: 0,
  DONE: 2,
  KIND: 4,
  QUIT: 5,
  /** Chunk tickets, an i64 at byte 24 (BigInt64Array index 3): chunk count << 24 | next chunk. */
  TICKET64: 3,
  /** Set by a worker whose chunk threw; the main thread then fails the call. */
  ERROR: 8,
  SCRATCH_BASE: 9,
  SCRATCH_STRIDE: 10,
  LUT_F16: 11,
  LUT_E4M3: 12,
  LUT_E5M2: 13,
} as const;

/** First i32 parameter (Int32Array index) and first f32 parameter (Float32Array index). */
export const PARAM_I32 = 256 / 4;
export const PARAM_F32 = 384 / 4;
/** Bytes below this address belong to the module (descriptor, static data); the arena starts here. */
export const ARENA_BASE = 1 << 20;
/** Bits of the chunk index in a ticket word; chunk counts stay below 2^24 − threads. */
export const TICKET_BITS = 24n;
export const MAX_CHUNKS = (1 << 24) - 4096;

export const JOB = {
  GEMM: 1,
  SKINNY: 2,
  QMV: 3,
  RMSNORM: 4,
  SILUMUL: 5,
  SOFTMAX: 6,
  XENT: 7,
  ATT_FWD: 8,
  ATT_BWD: 9,
} as const;

/** Weight encodings understood by the GEMM packer and the quantised mat-vec. */
export const WKIND = { f32: 0, bf16: 1, f16: 2, e4m3: 3, e5m2: 4, i8: 5 } as const;
