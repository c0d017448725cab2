// Entry points of the kernels module. Every thread (the main one and each worker) instantiates
// this module over the same shared memory and calls run(tid) when a job is posted; chunks of
// the job are taken from an atomic counter until none is left.
import {
  DONE,
  JOB_ATT_BWD,
  JOB_ATT_FWD,
  JOB_GEMM,
  JOB_QMV,
  JOB_RMSNORM,
  JOB_SILUMUL,
  JOB_SKINNY,
  JOB_SOFTMAX,
  JOB_XENT,
  KIND,
  SCRATCH_BASE,
  SCRATCH_STRIDE,
  TICKET,
  TICKET_BITS,
} from './layout';
import { gemmChunk } from './gemm';
import { skinnyChunk } from './skinny';
import { qmvChunk } from './quant';
import { crossEntropyChunk, rmsNormChunk, siluMulChunk, softmaxChunk } from './elementwise';
import { attentionBackwardChunk, attentionChunk } from './attention';

export { compactA } from './skinny';
export { prepX } from './quant';
export { tileWeight, tiledBytes, paddedK } from './tiles';
export { GEMM_SCRATCH, TN_MAX } from './gemm';
export { MR, NR } from './pack';

/** Takes chunks of the posted job until none is left; the last finisher wakes the main thread. */
export function run(tid: i32): void {
  const scratch = <usize>load<u32>(SCRATCH_BASE) + <usize>tid * <usize>load<u32>(SCRATCH_STRIDE);
  const mask: i64 = ((<i64>1) << TICKET_BITS) - 1;
  while (true) {
    const t = atomic.add<i64>(TICKET, 1);
    const c = <i32>(t & mask),
      total = <i32>(t >> TICKET_BITS);
    if (c >= total) break;
    switch (load<i32>(KIND)) {
      case JOB_GEMM:
        gemmChunk(c, scratch);
        break;
      case JOB_SKINNY:
        skinnyChunk(c, scratch);
        break;
      case JOB_QMV:
        qmvChunk(c, scratch);
        break;
      case JOB_RMSNORM:
        rmsNormChunk(c);
        break;
      case JOB_SILUMUL:
        siluMulChunk(c);
        break;
      case JOB_SOFTMAX:
        softmaxChunk(c);
        break;
      case JOB_XENT:
        crossEntropyChunk(c);
        break;
      case JOB_ATT_FWD:
        attentionChunk(c, scratch);
        break;
      case JOB_ATT_BWD:
        attentionBackwardChunk(c, scratch);
        break;
      default:
        unreachable();
    }
    if (atomic.add<i32>(DONE, 1) + 1 == total) atomic.notify(DONE, 1);
  }
}
