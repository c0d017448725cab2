// Shared-memory layout of the job descriptor. Mirrored by ../layout.ts on the JS side: keep in step.
// [0, 64): control words, [256, 384): i32 params, [384, 448): f32 params.

export const GEN: usize = 0; // bumped by the main thread to wake the workers
export const DONE: usize = 8; // chunks finished
export const KIND: usize = 16; // which kernel (see JOB_* below)
export const QUIT: usize = 20; // set to make workers exit
// Chunk tickets (i64): chunk count << 24 | next chunk. One word, so a thread that takes a ticket
// also learns which job it belongs to: a late thread can never pair an old ticket with a new job.
export const TICKET: usize = 24;
export const TICKET_BITS: i64 = 24;
export const ERROR: usize = 32; // set by the JS side of a worker whose chunk threw
export const SCRATCH_BASE: usize = 36; // per-thread scratch: base + tid * stride
export const SCRATCH_STRIDE: usize = 40;
export const LUT_F16: usize = 44; // 65536 f32 decode table
export const LUT_E4M3: usize = 48; // 256 f32 decode table
export const LUT_E5M2: usize = 52; // 256 f32 decode table

const P_I32: usize = 256;
const P_F32: usize = 384;

/** i-th integer (or pointer) parameter of the current job. */
// @ts-ignore: decorator
@inline export function pi(i: usize): i32 {
  return load<i32>(P_I32 + (i << 2));
}
/** i-th pointer parameter, as usize. */
// @ts-ignore: decorator
@inline export function pp(i: usize): usize {
  return <usize>load<u32>(P_I32 + (i << 2));
}
/** i-th float parameter of the current job. */
// @ts-ignore: decorator
@inline export function pf(i: usize): f32 {
  return load<f32>(P_F32 + (i << 2));
}

export const JOB_GEMM = 1;
export const JOB_SKINNY = 2;
export const JOB_QMV = 3;
export const JOB_RMSNORM = 4;
export const JOB_SILUMUL = 5;
export const JOB_SOFTMAX = 6;
export const JOB_XENT = 7;
export const JOB_ATT_FWD = 8;
export const JOB_ATT_BWD = 9;

/** Weight encodings (B operand of the GEMM, W of quantMatmul). */
export const W_F32 = 0;
export const W_BF16 = 1;
export const W_F16 = 2;
export const W_E4M3 = 3;
export const W_E5M2 = 4;
export const W_I8 = 5;
