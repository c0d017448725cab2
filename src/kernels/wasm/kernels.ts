/**
 * The fast kernel set: marshals JS arrays into kernel memory, splits each op into chunks and
 * dispatches them to the WASM threads (ops/). f64 inputs (gradient checks) go to the reference,
 * and so do operands too large for kernel memory.
 */
import type { Kernels } from '../types.ts';
import { referenceKernels as ref } from '../reference/index.ts';
import { KernelMemoryError } from './arena.ts';
import { Residency } from './residency.ts';
import type { Runtime } from './runtime.ts';
import type { Ctx } from './ops/context.ts';
import { matmulOps } from './ops/matmul.ts';
import { rowOps } from './ops/rows.ts';
import { attentionOps } from './ops/attention.ts';

/** Runs the fast path; operands too large for kernel memory go to the reference instead. */
function orReference<A extends unknown[], R>(fast: (...a: A) => R, slow: (...a: A) => R): (...a: A) => R {
  return (...a: A) => {
    try {
      return fast(...a);
    } catch (e) {
      if (e instanceof KernelMemoryError) return slow(...a);
      throw e;
    }
  };
}

export function createWasmKernels(rt: Runtime): Kernels {
  const ctx: Ctx = {
    rt,
    residency: new Residency(rt, residentBudget()),
    limits: { MR: Number(rt.exports.MR.value), NR: Number(rt.exports.NR.value), TN_MAX: Number(rt.exports.TN_MAX.value) },
  };
  const fast = { ...matmulOps(ctx), ...rowOps(ctx), ...attentionOps(ctx) };
  return {
    name: `wasm-simd${rt.relaxed ? '-relaxed' : ''}x${rt.threads}`,
    gemm: orReference(fast.gemm, ref.gemm),
    quantMatmul: orReference(fast.quantMatmul, ref.quantMatmul),
    quantize: ref.quantize,
    rmsNorm: orReference(fast.rmsNorm, ref.rmsNorm),
    siluMul: orReference(fast.siluMul, ref.siluMul),
    softmax: orReference(fast.softmax, ref.softmax),
    crossEntropy: orReference(fast.crossEntropy, ref.crossEntropy),
    attention: orReference(fast.attention, ref.attention),
    attentionBackward: orReference(fast.attentionBackward, ref.attentionBackward),
  };
}

/** Bytes of kernel memory resident weights may hold (DSTS_RESIDENT_MB, default 3 GiB of the 4 GiB). */
function residentBudget(): number {
  const mb = Number(process.env.DSTS_RESIDENT_MB);
  return (Number.isFinite(mb) && mb > 0 ? mb : 3072) * 1024 * 1024;
}
