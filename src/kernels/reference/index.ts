/** The reference kernel set: plain TypeScript, readable, the oracle for every fast path. */
import type { Kernels } from '../types.ts';
import { gemm } from './gemm.ts';
import { quantMatmul } from './quant-matmul.ts';
import { quantize } from './quantize.ts';
import { rmsNorm } from './rms-norm.ts';
import { siluMul } from './silu-mul.ts';
import { softmax } from './softmax.ts';
import { crossEntropy } from './cross-entropy.ts';
import { attention } from './attention.ts';
import { attentionBackward } from './attention-backward.ts';

export const referenceKernels: Kernels = {
  name: 'reference',
  gemm,
  quantMatmul,
  quantize,
  rmsNorm,
  siluMul,
  softmax,
  crossEntropy,
  attention,
  attentionBackward,
};
