/**
 * Memory per GPU for a training layout: the model states (bf16 weights, fp32 gradients, fp32 master
 * weights and AdamW's two moments, each sharded by the ZeRO stage) of the pipeline stages a device
 * holds, and the activations its schedule keeps alive. Expert parameters are split over the EP
 * group and sharded over the expert-data-parallel group (TP·DP/EP ranks); everything else over TP
 * and sharded over DP.
 *
 * Activations are counted tensor by tensor from the layer's shapes (what the backward pass reads), per
 * token of a micro-batch (divided by TP: sequence parallelism), in bf16, fp32 where kept so (router
 * scores, softmax statistics), and in FP8 for the inputs of the linear layers when training in FP8
 * (DeepSeek-V3 §3.3.4). Recomputation: 'selective' drops the RMSNorm outputs, MLA's up-projected
 * queries, keys and values and the SwiGLU outputs (recomputed in the backward, as DeepSeek-V3
 * §3.2.3 does); 'full' keeps only each layer's input and recomputes the layer when its backward
 * comes. The schedule's peak of live micro-batch chunks (pipeline/simulate.ts) multiplies a stage's
 * activations; the last stage adds one micro-batch's fp32 logits (and the MTP modules').
 */
import type { ModelConfig } from '../io/config.ts';
import { stageLayers, type Layout, type Recompute } from './layout.ts';
import { mainLayers, mtpLayers, type LayerShape, type ModelShape } from './shapes.ts';

const BF16 = 2;
const F32 = 4;

/** Bytes of activations one token leaves for the backward pass in one layer. */
export function activationBytesPerToken(c: ModelConfig, layer: LayerShape, recompute: Recompute, fp8: boolean): number {
  const h = c.hiddenSize;
  const lin = fp8 ? 1 + F32 / 128 : BF16; // FP8 with one fp32 scale per 128 values
  if (recompute === 'full') return BF16 * h;
  const sel = recompute === 'selective';
  let b = BF16 * h; // layer input (residual)
  const mla = c.modelType === 'deepseek_v3' || c.modelType === 'deepseek_v2';
  const heads = c.numAttentionHeads;
  if (!sel) b += lin * h; // attention norm output
  if (mla) {
    const q = c.qLoraRank;
    if (q !== null) {
      b += BF16 * q; // q_a output (norm input)
      if (!sel) b += lin * q; // q_a norm output
    }
    b += BF16 * (c.kvLoraRank + c.qkRopeHeadDim); // kv_a output
    if (!sel)
      b += lin * c.kvLoraRank + BF16 * heads * (2 * c.qkHeadDim + c.vHeadDim); // kv norm; q, k, v up-projected
    else b += BF16 * heads * c.qkRopeHeadDim; // the rotated rope parts stay
    b += lin * heads * c.vHeadDim + F32 * heads; // attention output (o_proj input), softmax statistics
  } else {
    const hd = c.headDim;
    b += BF16 * (heads + 2 * c.numKeyValueHeads) * hd + lin * heads * hd + F32 * heads;
  }
  b += BF16 * h; // residual after attention
  if (!sel) b += lin * h; // FFN norm output
  const ffn = (width: number, copies: number) => copies * (lin * h + BF16 * 2 * width + (sel ? 0 : lin * width) + BF16 * h);
  if (mla && layer.moe) {
    b += F32 * c.nRoutedExperts; // router scores
    b += ffn(c.moeIntermediateSize, c.numExpertsPerTok) + ffn(c.moeIntermediateSize * c.nSharedExperts, c.nSharedExperts > 0 ? 1 : 0);
  } else b += ffn(c.intermediateSize, 1);
  if (layer.mtp !== null) b += BF16 * 3 * h; // MTP: the embedding, the two norms' inputs to eh_proj
  return b;
}

export interface DeviceMemory {
  device: number;
  /** Pipeline stages this device holds (two under DualPipe). */
  stages: number[];
  /** Parameters on this GPU: all of them, and the non-expert part. */
  params: number;
  denseParams: number;
  weights: number;
  grads: number;
  optimizer: number;
  activations: number;
  /** Last stage: one micro-batch's fp32 logits (main head and MTP heads). */
  logits: number;
  total: number;
}

export interface MemoryPlan {
  devices: DeviceMemory[];
  /** The device that needs the most. */
  peak: DeviceMemory;
}

/** Layers (main and MTP), embedding and head per pipeline stage: embedding on the first, head and MTP on the last. */
export function stageContents(s: ModelShape, pp: number) {
  const main = mainLayers(s);
  const parts = stageLayers(main.length, pp).map((idx) => idx.map((i) => main[i]!));
  parts[pp - 1]!.push(...mtpLayers(s));
  return parts.map((layers, i) => ({
    layers,
    extraParams: (i === 0 ? s.embedding : 0) + (i === pp - 1 ? s.head + s.finalNorm : 0),
  }));
}

/**
 * Memory of every device of one pipeline. `peakChunks[d]`: the most micro-batch chunks device d
 * keeps activations for (the schedule's simulation).
 */
export function memoryPlan(s: ModelShape, l: Layout, peakChunks: readonly number[]): MemoryPlan {
  const c = s.config;
  const stages = stageContents(s, l.pp);
  const expertDp = (l.tp * l.dp) / l.ep;
  const momentBytes = l.moments === 'bf16' ? 2 * BF16 : 2 * F32;
  const tokens = (l.microBatch * l.seqLen) / l.tp;
  const devices: DeviceMemory[] = [];
  for (let d = 0; d < l.pp; d++) {
    const held = l.schedule === 'dualpipe' && l.pp - 1 - d !== d ? [d, l.pp - 1 - d] : [d];
    let dense = 0;
    let expert = 0;
    let act = 0;
    for (const st of held) {
      const p = stages[st]!;
      dense += p.extraParams;
      for (const layer of p.layers) {
        dense += layer.denseParams;
        expert += layer.expertParams;
      }
      // Activations per chunk: the average over the held stages (a DualPipe device alternates them).
      act += p.layers.reduce((a, layer) => a + activationBytesPerToken(c, layer, l.recompute, l.compute === 'fp8'), 0) / held.length;
    }
    const denseLocal = dense / l.tp;
    const expertLocal = expert / l.ep;
    const shard = (bytes: number, n: number, from: number) => (l.zero >= from ? bytes / n : bytes);
    const weights = shard(BF16 * denseLocal, l.dp, 3) + shard(BF16 * expertLocal, expertDp, 3);
    const grads = shard(F32 * denseLocal, l.dp, 2) + shard(F32 * expertLocal, expertDp, 2);
    const optimizer = shard((F32 + momentBytes) * denseLocal, l.dp, 1) + shard((F32 + momentBytes) * expertLocal, expertDp, 1);
    let activations = act * tokens * (peakChunks[d] ?? 1);
    // Full recomputation rebuilds one layer's activations at a time during the backward.
    if (l.recompute === 'full') {
      const worst = Math.max(
        ...held.flatMap((st) => stages[st]!.layers.map((x) => activationBytesPerToken(c, x, 'none', l.compute === 'fp8'))),
      );
      activations += worst * tokens;
    }
    const last = held.includes(l.pp - 1);
    const heads = 1 + new Set(mtpLayers(s).map((x) => x.mtp)).size;
    const logits = last ? F32 * c.vocabSize * tokens * heads : 0;
    const total = weights + grads + optimizer + activations + logits;
    devices.push({
      device: d,
      stages: held,
      params: denseLocal + expertLocal,
      denseParams: denseLocal,
      weights,
      grads,
      optimizer,
      activations,
      logits,
      total,
    });
  }
  const peak = devices.reduce((a, b) => (b.total > a.total ? b : a));
  return { devices, peak };
}
