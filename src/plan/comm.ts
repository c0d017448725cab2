/**
 * Expert-parallel all-to-all traffic of one MoE layer for one micro-batch, and the computation it
 * has to hide behind (DeepSeek-V3 §3.2.2). Each token goes to its top-k routed experts: dispatch
 * sends its hidden state (FP8 with one fp32 scale per 128 values, as V3 does, or bf16), combine
 * brings the k expert outputs back in bf16; the backward pass sends gradients both ways in bf16.
 * Across nodes a token travels once per destination node and is forwarded over NVLink inside it;
 * node-limited routing (topk_group of n_group groups, one group per node) bounds those nodes, else
 * up to k. The expected share that leaves the GPU (or the node) assumes balanced routing.
 */
import type { ModelConfig } from '../io/config.ts';
import { layerForwardFlops } from './flops.ts';
import type { Gpu } from './gpus.ts';
import type { Layout } from './layout.ts';
import type { ModelShape } from './shapes.ts';

export interface AllToAll {
  /** Tokens of one micro-batch on one GPU. */
  tokens: number;
  /** Bytes one GPU sends over NVLink / over the network, forward (dispatch + combine). */
  nvlinkForward: number;
  networkForward: number;
  /** Same for the backward pass (both ways bf16). */
  nvlinkBackward: number;
  networkBackward: number;
  /** Seconds of communication (the slower of the two links) and of the layer's compute, forward and backward. */
  commForward: number;
  commBackward: number;
  computeForward: number;
  computeBackward: number;
  /** Destination nodes per token over the network (after the per-node de-duplication). */
  nodesPerToken: number;
}

export function allToAll(
  s: ModelShape,
  l: Layout,
  gpu: Gpu,
  peakFlops: number,
  mfu: number,
  dispatch: 'fp8' | 'bf16' = 'fp8',
): AllToAll | null {
  const c: ModelConfig = s.config;
  if (c.modelType !== 'deepseek_v3' && c.modelType !== 'deepseek_v2') return null;
  const moe = s.layers.find((x) => x.moe && x.mtp === null);
  if (moe === undefined) return null;
  const h = c.hiddenSize;
  const k = c.numExpertsPerTok;
  const tokens = (l.microBatch * l.seqLen) / l.tp;
  const ep = l.ep;
  const offGpu = (ep - 1) / ep;
  const nodes = Math.ceil(ep / gpu.perNode);
  const limited = c.nGroup > 1 && c.topkGroup < c.nGroup && c.nGroup === nodes ? c.topkGroup : k;
  const nodesPerToken = nodes > 1 ? Math.min(limited, nodes) * ((nodes - 1) / nodes) : 0;
  const dispatchBytes = dispatch === 'fp8' ? h * (1 + 4 / 128) : 2 * h;
  const combineBytes = 2 * h;
  const nvF = tokens * k * offGpu * (dispatchBytes + combineBytes);
  const netF = tokens * nodesPerToken * (dispatchBytes + combineBytes);
  const nvB = tokens * k * offGpu * 4 * h;
  const netB = tokens * nodesPerToken * 4 * h;
  const time = (nv: number, net: number) => Math.max(nv / gpu.nvlink, net / gpu.network);
  const fwd = (tokens * layerForwardFlops(s, moe.index, l.seqLen)) / (peakFlops * mfu);
  return {
    tokens,
    nvlinkForward: nvF,
    networkForward: netF,
    nvlinkBackward: nvB,
    networkBackward: netB,
    commForward: time(nvF, netF),
    commBackward: time(nvB, netB),
    computeForward: fwd,
    computeBackward: 2 * fwd,
    nodesPerToken,
  };
}

/** Bytes and seconds of a ring all-reduce of `bytes` over `n` ranks at `bandwidth` bytes/s (data-parallel gradients). */
export function allReduce(bytes: number, n: number, bandwidth: number): { bytes: number; seconds: number } {
  const sent = n > 1 ? (2 * (n - 1) * bytes) / n : 0;
  return { bytes: sent, seconds: sent / bandwidth };
}
