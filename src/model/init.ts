/**
 * Random initialisation of a model for pre-training, with the HF tensor names and shapes every family
 * reads, so a freshly initialised model is built, trained and saved exactly like a loaded checkpoint.
 *
 * The distribution is transformers' `_init_weights`: every Linear and Embedding matrix
 * ~ Normal(0, initializer_range), biases 0, RMSNorm weights 1. DeepSeek-V3's router bias
 * `e_score_correction_bias` starts at 0 and is *not* a gradient parameter: the auxiliary-loss-free
 * balancer moves it (DeepSeek-V3 §2.1.2), so it is the one leaf left without `requireGrad`.
 *
 * MTP modules (V3, `num_nextn_predict_layers` of them) sit at layer ids num_hidden_layers + k with
 * `enorm`, `hnorm`, `eh_proj` [hidden, 2·hidden], a full decoder block and `shared_head.norm`; the
 * embedding and output head are the main model's (DeepSeek-V3 §2.2) and are not duplicated.
 */
import { Tensor, Rng } from '../tensor/index.ts';
import { isMoeLayer, type DeepseekCommonConfig, type LlamaConfig, type ModelConfig, type Qwen2Config } from '../io/config.ts';
import { MapWeights } from './weights.ts';

/** How a tensor starts: a Normal(0, σ) matrix, a ones RMSNorm weight, or zeros. */
type Kind = 'normal' | 'ones' | 'zeros';

/** The ordered list of (name, shape, kind) of one model; order fixes which random numbers go where. */
class Spec {
  readonly entries: { name: string; shape: number[]; kind: Kind; grad: boolean }[] = [];

  matrix(name: string, rows: number, cols: number): void {
    this.entries.push({ name, shape: [rows, cols], kind: 'normal', grad: true });
  }

  norm(name: string, dim: number): void {
    this.entries.push({ name, shape: [dim], kind: 'ones', grad: true });
  }

  bias(name: string, dim: number, grad = true): void {
    this.entries.push({ name, shape: [dim], kind: 'zeros', grad });
  }

  /** A SwiGLU FFN (gate, up, down) of width `inter`. */
  mlp(prefix: string, hidden: number, inter: number, withBias = false): void {
    this.matrix(`${prefix}.gate_proj.weight`, inter, hidden);
    this.matrix(`${prefix}.up_proj.weight`, inter, hidden);
    this.matrix(`${prefix}.down_proj.weight`, hidden, inter);
    if (withBias) {
      this.bias(`${prefix}.gate_proj.bias`, inter);
      this.bias(`${prefix}.up_proj.bias`, inter);
      this.bias(`${prefix}.down_proj.bias`, hidden);
    }
  }
}

/** Multi-head Latent Attention of one block (DeepSeek-V2/V3). */
function mla(s: Spec, c: DeepseekCommonConfig, p: string): void {
  const h = c.hiddenSize;
  const heads = c.numAttentionHeads;
  if (c.qLoraRank === null) {
    s.matrix(`${p}.q_proj.weight`, heads * c.qkHeadDim, h);
  } else {
    s.matrix(`${p}.q_a_proj.weight`, c.qLoraRank, h);
    if (c.attentionBias) s.bias(`${p}.q_a_proj.bias`, c.qLoraRank);
    s.norm(`${p}.q_a_layernorm.weight`, c.qLoraRank);
    s.matrix(`${p}.q_b_proj.weight`, heads * c.qkHeadDim, c.qLoraRank);
  }
  s.matrix(`${p}.kv_a_proj_with_mqa.weight`, c.kvLoraRank + c.qkRopeHeadDim, h);
  if (c.attentionBias) s.bias(`${p}.kv_a_proj_with_mqa.bias`, c.kvLoraRank + c.qkRopeHeadDim);
  s.norm(`${p}.kv_a_layernorm.weight`, c.kvLoraRank);
  s.matrix(`${p}.kv_b_proj.weight`, heads * (c.qkNopeHeadDim + c.vHeadDim), c.kvLoraRank);
  s.matrix(`${p}.o_proj.weight`, h, heads * c.vHeadDim);
  if (c.attentionBias) s.bias(`${p}.o_proj.bias`, h);
}

/** Whether the router carries `e_score_correction_bias` (V3 always; V2 only with noaux_tc). */
function hasCorrectionBias(c: DeepseekCommonConfig): boolean {
  return c.modelType === 'deepseek_v3' || c.topkMethod === 'noaux_tc';
}

/** One DeepSeek decoder block `i` (MTP blocks continue the numbering and follow the same MoE rule). */
function deepseekBlock(s: Spec, c: DeepseekCommonConfig, i: number): void {
  const p = `model.layers.${i}`;
  const h = c.hiddenSize;
  s.norm(`${p}.input_layernorm.weight`, h);
  mla(s, c, `${p}.self_attn`);
  s.norm(`${p}.post_attention_layernorm.weight`, h);
  if (!isMoeLayer(c, i)) {
    s.mlp(`${p}.mlp`, h, c.intermediateSize);
    return;
  }
  s.matrix(`${p}.mlp.gate.weight`, c.nRoutedExperts, h);
  if (hasCorrectionBias(c)) s.bias(`${p}.mlp.gate.e_score_correction_bias`, c.nRoutedExperts, false);
  for (let e = 0; e < c.nRoutedExperts; e++) s.mlp(`${p}.mlp.experts.${e}`, h, c.moeIntermediateSize);
  // transformers keeps the shared experts as one MLP of width moe_intermediate × n_shared.
  if (c.nSharedExperts > 0) s.mlp(`${p}.mlp.shared_experts`, h, c.moeIntermediateSize * c.nSharedExperts);
}

function deepseekSpec(s: Spec, c: DeepseekCommonConfig): void {
  for (let i = 0; i < c.numHiddenLayers; i++) deepseekBlock(s, c, i);
  // MTP modules: V3 only, as transformers' parameter accounting (model/params.ts) has it.
  const modules = c.modelType === 'deepseek_v3' ? c.numNextnPredictLayers : 0;
  for (let k = 0; k < modules; k++) {
    const i = c.numHiddenLayers + k;
    const p = `model.layers.${i}`;
    s.norm(`${p}.enorm.weight`, c.hiddenSize);
    s.norm(`${p}.hnorm.weight`, c.hiddenSize);
    s.matrix(`${p}.eh_proj.weight`, c.hiddenSize, 2 * c.hiddenSize);
    deepseekBlock(s, c, i);
    s.norm(`${p}.shared_head.norm.weight`, c.hiddenSize);
  }
}

/** Llama / Qwen2 GQA blocks (Qwen2: q/k/v always biased; Llama: attention_bias / mlp_bias). */
function denseSpec(s: Spec, c: LlamaConfig | Qwen2Config): void {
  const h = c.hiddenSize;
  const q = c.numAttentionHeads * c.headDim;
  const kv = c.numKeyValueHeads * c.headDim;
  const qkvBias = c.modelType === 'qwen2' || c.attentionBias;
  const oBias = c.modelType === 'llama' && c.attentionBias;
  for (let i = 0; i < c.numHiddenLayers; i++) {
    const p = `model.layers.${i}`;
    s.norm(`${p}.input_layernorm.weight`, h);
    for (const [n, rows] of [['q_proj', q], ['k_proj', kv], ['v_proj', kv]] as const) {
      s.matrix(`${p}.self_attn.${n}.weight`, rows, h);
      if (qkvBias) s.bias(`${p}.self_attn.${n}.bias`, rows);
    }
    s.matrix(`${p}.self_attn.o_proj.weight`, h, q);
    if (oBias) s.bias(`${p}.self_attn.o_proj.bias`, h);
    s.norm(`${p}.post_attention_layernorm.weight`, h);
    s.mlp(`${p}.mlp`, h, c.intermediateSize, c.modelType === 'llama' && c.mlpBias);
  }
}

/** Every tensor `config`'s family reads, with its initial value kind, in a fixed order. */
function specOf(c: ModelConfig): Spec {
  const s = new Spec();
  s.matrix('model.embed_tokens.weight', c.vocabSize, c.hiddenSize);
  if (c.modelType === 'deepseek_v3' || c.modelType === 'deepseek_v2') deepseekSpec(s, c);
  else denseSpec(s, c);
  s.norm('model.norm.weight', c.hiddenSize);
  // Tied embeddings: the head *is* the embedding matrix, so there is no lm_head tensor.
  if (!c.tieWordEmbeddings) s.matrix('lm_head.weight', c.vocabSize, c.hiddenSize);
  return s;
}

/** Every tensor `config`'s family reads: name, shape and how it starts, in a fixed order. */
export function tensorSpecs(config: ModelConfig): readonly { name: string; shape: readonly number[]; kind: Kind }[] {
  return specOf(config).entries;
}

/**
 * Fresh f32 weights for `config`: every tensor its family reads, under the HF names, as leaves that
 * require grad (except the router correction bias). The same seed gives the same weights.
 */
export function initWeights(config: ModelConfig, seed: number): MapWeights {
  const rng = new Rng(seed);
  const std = config.initializerRange;
  const tensors = new Map<string, Tensor>();
  for (const e of specOf(config).entries) {
    let t: Tensor;
    if (e.kind === 'normal') t = Tensor.randn(e.shape, rng, std);
    else if (e.kind === 'ones') t = Tensor.ones(e.shape);
    else t = Tensor.zeros(e.shape);
    tensors.set(e.name, e.grad ? t.requireGrad() : t);
  }
  return new MapWeights(tensors, `the initialised ${config.modelType} weights`);
}
