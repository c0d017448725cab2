/**
 * Parameter accounting from a typed config, without building a model. Counts follow the tensors
 * of the HF checkpoints:
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
import { isMoeLayer, type DeepseekCommonConfig, type LlamaConfig, type ModelConfig, type Qwen2Config } from '../io/config.ts';

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

/** A SwiGLU FFN (gate, up, down) of width `inter`, with optional biases. */
function gatedMlp(hidden: number, inter: number, bias = false): number {
  return 3 * hidden * inter + (bias ? 2 * inter + hidden : 0);
}

/** Multi-head Latent Attention of one layer, with the biases transformers gives `attention_bias`. */
function mlaParams(c: DeepseekCommonConfig): number {
  const h = c.hiddenSize;
  const heads = c.numAttentionHeads;
  const b = c.attentionBias;
  const q =
    c.qLoraRank === null
      ? h * heads * c.qkHeadDim // q_proj (never biased)
      : h * c.qLoraRank + (b ? c.qLoraRank : 0) + c.qLoraRank + c.qLoraRank * heads * c.qkHeadDim; // q_a_proj, q_a_layernorm, q_b_proj
  const kvA = h * (c.kvLoraRank + c.qkRopeHeadDim) + (b ? c.kvLoraRank + c.qkRopeHeadDim : 0); // kv_a_proj_with_mqa
  const kvNorm = c.kvLoraRank;
  const kvB = c.kvLoraRank * heads * (c.qkNopeHeadDim + c.vHeadDim);
  const o = heads * c.vHeadDim * h + (b ? h : 0);
  return q + kvA + kvNorm + kvB + o;
}

/** Whether the family's router carries `e_score_correction_bias` (V3 always; V2 only for noaux_tc). */
function hasCorrectionBias(c: DeepseekCommonConfig): boolean {
  return c.modelType === 'deepseek_v3' || c.topkMethod === 'noaux_tc';
}

function gqaParams(c: LlamaConfig | Qwen2Config): number {
  const h = c.hiddenSize;
  const q = c.numAttentionHeads * c.headDim;
  const kv = c.numKeyValueHeads * c.headDim;
  const qkvBias = c.modelType === 'qwen2' || c.attentionBias;
  const oBias = c.modelType === 'llama' && c.attentionBias;
  return h * (q + 2 * kv) + q * h + (qkvBias ? q + 2 * kv : 0) + (oBias ? h : 0);
}

function emptyBreakdown(c: ModelConfig): ParamBreakdown {
  const embedding = c.vocabSize * c.hiddenSize;
  return {
    embedding,
    lmHead: c.tieWordEmbeddings ? 0 : embedding,
    attention: 0,
    norms: c.hiddenSize, // final norm
    denseMlp: 0,
    sharedExperts: 0,
    routedExperts: 0,
    router: 0,
  };
}

function sum(b: ParamBreakdown): number {
  return b.embedding + b.lmHead + b.attention + b.norms + b.denseMlp + b.sharedExperts + b.routedExperts + b.router;
}

function countDense(c: LlamaConfig | Qwen2Config): ParamCounts {
  const b = emptyBreakdown(c);
  const L = c.numHiddenLayers;
  b.attention = L * gqaParams(c);
  b.norms += L * 2 * c.hiddenSize;
  b.denseMlp = L * gatedMlp(c.hiddenSize, c.intermediateSize, c.modelType === 'llama' && c.mlpBias);
  const total = sum(b);
  return { modelType: c.modelType, total, correctionBias: 0, activated: total, mtp: 0, mtpCorrectionBias: 0, breakdown: b };
}

/** One DeepSeek decoder layer `i`, split into what every token uses and the routed experts. */
function deepseekLayer(c: DeepseekCommonConfig, i: number) {
  const h = c.hiddenSize;
  const attention = mlaParams(c);
  const norms = 2 * h;
  if (!isMoeLayer(c, i)) {
    return { attention, norms, denseMlp: gatedMlp(h, c.intermediateSize), shared: 0, routed: 0, routedActive: 0, router: 0, bias: 0 };
  }
  const expert = gatedMlp(h, c.moeIntermediateSize);
  return {
    attention,
    norms,
    denseMlp: 0,
    // transformers builds the shared experts as one MLP of width moe_intermediate × n_shared; same count.
    shared: c.nSharedExperts === 0 ? 0 : gatedMlp(h, c.moeIntermediateSize * c.nSharedExperts),
    routed: c.nRoutedExperts * expert,
    routedActive: c.numExpertsPerTok * expert,
    router: c.nRoutedExperts * h,
    bias: hasCorrectionBias(c) ? c.nRoutedExperts : 0,
  };
}

function countDeepseek(c: DeepseekCommonConfig): ParamCounts {
  const b = emptyBreakdown(c);
  let correctionBias = 0;
  let activated = b.embedding + b.lmHead + b.norms;
  for (let i = 0; i < c.numHiddenLayers; i++) {
    const l = deepseekLayer(c, i);
    b.attention += l.attention;
    b.norms += l.norms;
    b.denseMlp += l.denseMlp;
    b.sharedExperts += l.shared;
    b.routedExperts += l.routed;
    b.router += l.router;
    correctionBias += l.bias;
    activated += l.attention + l.norms + l.denseMlp + l.shared + l.routedActive + l.router + l.bias;
  }

  // MTP module k (V3 only) sits at layer id numHiddenLayers + k and follows the same MoE rule.
  let mtp = 0;
  let mtpCorrectionBias = 0;
  const modules = c.modelType === 'deepseek_v3' ? c.numNextnPredictLayers : 0;
  for (let k = 0; k < modules; k++) {
    const h = c.hiddenSize;
    const l = deepseekLayer(c, c.numHiddenLayers + k);
    const own = 2 * h /* enorm, hnorm */ + 2 * h * h /* eh_proj */ + h; /* shared_head.norm */
    mtp += own + l.attention + l.norms + l.denseMlp + l.shared + l.routed + l.router + l.bias;
    mtpCorrectionBias += l.bias;
  }
  return { modelType: c.modelType, total: sum(b), correctionBias, activated, mtp, mtpCorrectionBias, breakdown: b };
}

/** Counts parameters of any supported family from its typed config. */
export function countParams(c: ModelConfig): ParamCounts {
  switch (c.modelType) {
    case 'deepseek_v3':
    case 'deepseek_v2':
      return countDeepseek(c);
    case 'llama':
    case 'qwen2':
      return countDense(c);
  }
}
