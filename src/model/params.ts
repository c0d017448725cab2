/**
 * Parameter accounting from a typed config, without building a model: sums over the parameter
 * declarations (declare.ts) the families make, so counts follow the tensors of the HF checkpoints:
 *
 * - `total`: the nn parameters of transformers' <Family>ForCausalLM, the number it reports and papers
 *   quote (DeepSeek-V3: 671,026,404,352). transformers does not instantiate the MTP module, and the
 *   router's `e_score_correction_bias` is a buffer there, so neither is in `total`.
 * - `correctionBias`: those bias entries of the main layers (stored in the checkpoint, updated by
 *   the aux-loss-free balancer rather than by gradients). V3: 58 MoE layers × 256 = 14,848.
 * - `activated`: what one token touches: embedding and output head, every attention block and
 *   norm, dense FFNs, and in each MoE layer the router (gate weight and correction bias, which
 *   scores every expert), the shared experts and `numExpertsPerTok` routed experts. V3: 37.55B.
 * - `mtp`: the multi-token-prediction modules' own parameters (enorm, hnorm, eh_proj, one full
 *   transformer block including its router bias, shared_head.norm); the embedding and head they
 *   share with the main model are not counted again. V3: 11,610,068,224.
 *
 * Tied embeddings (Llama) count once.
 */
import type { ModelConfig } from '../io/config.ts';
import type { ParamDecl } from './declare.ts';
import { declareModel } from './registry.ts';

/** Parameters by kind; the fields add up to `total`. */
export interface ParamBreakdown {
  embedding: number;
  /** 0 when the head is tied to the embedding. */
  lmHead: number;
  /** All attention projections (and MLA's q/kv norms and biases). */
  attention: number;
  /** Per-layer input/post-attention norms and the final norm. */
  norms: number;
  /** FFNs of dense layers. */
  denseMlp: number;
  sharedExperts: number;
  routedExperts: number;
  /** Router gate weights (not the correction bias). */
  router: number;
}

export interface ParamCounts {
  modelType: ModelConfig['modelType'];
  total: number;
  correctionBias: number;
  activated: number;
  mtp: number;
  /** Of `mtp`, the MTP modules' correction-bias entries. */
  mtpCorrectionBias: number;
  breakdown: ParamBreakdown;
}

const size = (d: ParamDecl) => d.shape.reduce((a, b) => a * b, 1);

/** Counts parameters of any supported family from its typed config (its parameter declarations). */
export function countParams(c: ModelConfig): ParamCounts {
  const breakdown: ParamBreakdown = {
    embedding: 0,
    lmHead: 0,
    attention: 0,
    norms: 0,
    denseMlp: 0,
    sharedExperts: 0,
    routedExperts: 0,
    router: 0,
  };
  let correctionBias = 0;
  let activated = 0;
  let mtp = 0;
  let mtpCorrectionBias = 0;
  const perToken = c.modelType === 'deepseek_v3' || c.modelType === 'deepseek_v2' ? c.numExpertsPerTok : 0;
  for (const d of declareModel(c)) {
    const n = size(d);
    if (d.mtp !== undefined) {
      mtp += n;
      if (d.part === 'correctionBias') mtpCorrectionBias += n;
      continue;
    }
    if (d.part === 'correctionBias') correctionBias += n;
    else breakdown[d.part] += n;
    // One token runs numExpertsPerTok routed experts (all of equal size) and everything else.
    if (d.expert === undefined || d.expert < perToken) activated += n;
  }
  const total = Object.values(breakdown).reduce((a, b) => a + b, 0);
  return { modelType: c.modelType, total, correctionBias, activated, mtp, mtpCorrectionBias, breakdown };
}
