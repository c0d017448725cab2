/**
 * Serving layout for a checkpoint: how many GPUs its weights need, and the tensor, pipeline, data
 * and expert parallel sizes an inference engine gets. Weights take their stored width (1 byte for
 * FP8 checkpoints, 2 for bf16); a quarter of the memory stays free for the KV cache and activations.
 * Tensor parallelism stays inside a node (NVLink); more nodes become pipeline stages. A MoE model
 * spreads its experts over the tensor-parallel GPUs (expert parallelism) rather than splitting each
 * expert.
 */
import type { ModelConfig } from '../../io/config.ts';
import { countParams } from '../../model/params.ts';
import type { Gpu } from '../gpus.ts';
import { PlanError } from '../errors.ts';

export interface ServingLayout {
  tp: number;
  pp: number;
  /** Expert-parallel size (tp × dp), or 1 for a dense model. */
  ep: number;
  gpus: number;
  weightBytes: number;
  /** Draft tokens for MTP speculative decoding (0: the model has no MTP module). */
  draftTokens: number;
  maxModelLen: number;
}

/** Share of GPU memory the weights may take. */
export const WEIGHT_SHARE = 0.75;

export function servingLayout(
  c: ModelConfig,
  gpu: Gpu,
  o: { tp?: number; pp?: number; draftTokens?: number; maxModelLen?: number } = {},
): ServingLayout {
  const p = countParams(c);
  const bytesPer =
    c.quantization?.quantMethod === 'fp8' ? 1 : c.quantization?.quantMethod === 'dsts' ? (c.quantization.scheme === 'q4' ? 0.5 : 1) : 2;
  const mtp = c.modelType === 'deepseek_v3' || c.modelType === 'deepseek_v2' ? c.numNextnPredictLayers : 0;
  const weightBytes = (p.total + p.correctionBias + p.mtp) * bytesPer;
  const need = Math.max(1, Math.ceil(weightBytes / (gpu.memory * WEIGHT_SHARE)));
  let tp = o.tp ?? 1;
  let pp = o.pp ?? 1;
  if (o.tp === undefined && o.pp === undefined) {
    while (tp < need && tp < gpu.perNode) tp *= 2;
    pp = Math.ceil(need / tp);
  } else if (o.tp !== undefined && o.pp === undefined) pp = Math.ceil(need / tp);
  else if (o.tp === undefined) tp = Math.min(gpu.perNode, 2 ** Math.ceil(Math.log2(Math.max(1, need / pp))));
  for (const [k, v] of [
    ['tp', tp],
    ['pp', pp],
  ] as const)
    if (!(Number.isInteger(v) && v >= 1)) throw new PlanError(`serving: --${k} must be a positive integer`);
  if (tp * pp * gpu.memory * WEIGHT_SHARE < weightBytes)
    throw new PlanError(
      `serving: ${(weightBytes / 1e9).toFixed(0)} GB of weights do not fit on ${tp * pp} × ${gpu.name} (${tp} TP × ${pp} PP)`,
    );
  const moe = c.modelType === 'deepseek_v3' || c.modelType === 'deepseek_v2';
  const draftTokens = mtp > 0 ? (o.draftTokens ?? 1) : 0;
  if (o.draftTokens !== undefined && mtp === 0) throw new PlanError('serving: the model has no MTP module to draft with');
  return { tp, pp, ep: moe ? tp : 1, gpus: tp * pp, weightBytes, draftTokens, maxModelLen: o.maxModelLen ?? c.maxPositionEmbeddings };
}
