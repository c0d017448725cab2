/** The reference kernel set: plain TypeScript, readable, the oracle for every fast path. */
import type { Kernels } from '../types.ts';
import { gemm } from './gemm.ts';

const missing = (name: string) => () => {
  throw new Error(`reference kernel '${name}' is not written yet`);
};

export const referenceKernels: Kernels = {
  name: 'reference',
  gemm,
  quantMatmul: missing('quantMatmul'),
  rmsNorm: missing('rmsNorm'),
  siluMul: missing('siluMul'),
  softmax: missing('softmax'),
  crossEntropy: missing('crossEntropy'),
  attention: missing('attention'),
  attentionBackward: missing('attentionBackward'),
};
