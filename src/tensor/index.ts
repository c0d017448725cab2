/** The tensor layer's public surface: the Tensor, autograd, and every op. */
export { Tensor, type BlockScale } from './tensor.ts';
export { backward, noGrad, isGradEnabled, record, type GradFn } from './autograd.ts';
export { Rng } from './random.ts';
export * from './dtype.ts';
export * from './shape.ts';
export * from './ops/elementwise.ts';
export * from './ops/reduce.ts';
export * from './ops/view.ts';
export * from './ops/matmul.ts';
export * from './ops/cast.ts';
export * from './ops/softmax.ts';
export * from './ops/loss.ts';
export * from './ops/norm.ts';
export * from './ops/activation.ts';
export * from './ops/indexing.ts';
export * from './ops/rope.ts';
export * from './ops/attention.ts';
export {
  withAttentionLayout,
  activeAttentionLayout,
  segmentBlocks,
  paddedBlocks,
  type AttentionLayout,
  type AttentionBlock,
} from './ops/attention-layout.ts';
export { floatData, rowMajor, allocFloat } from './ops/strided.ts';
export { withAttentionProbe, activeAttentionProbe, type AttentionProbe } from './ops/attention-probe.ts';
