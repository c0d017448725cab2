/**
 * Model configs `dsts plan` and `dsts export` know by name, so the 671B model can be sized without a
 * download. DeepSeek-V3's config.json is public (deepseek-ai/DeepSeek-V3 on the Hugging Face Hub);
 * this is it verbatim, the one copy in the source tree (the tests hold it to ../shared's fixture).
 */
import { parseConfig, type ModelConfig } from '../io/config.ts';

export const DEEPSEEK_V3_671B_CONFIG = {
  architectures: ['DeepseekV3ForCausalLM'],
  model_type: 'deepseek_v3',
  attention_bias: false,
  attention_dropout: 0.0,
  aux_loss_alpha: 0.001,
  bos_token_id: 0,
  eos_token_id: 1,
  ep_size: 1,
  hidden_act: 'silu',
  initializer_range: 0.02,
  moe_layer_freq: 1,
  norm_topk_prob: true,
  rms_norm_eps: 1e-6,
  rope_theta: 10000,
  scoring_func: 'sigmoid',
  seq_aux: true,
  tie_word_embeddings: false,
  topk_method: 'noaux_tc',
  torch_dtype: 'bfloat16',
  use_cache: true,
  num_nextn_predict_layers: 1,
  routed_scaling_factor: 2.5,
  vocab_size: 129280,
  hidden_size: 7168,
  intermediate_size: 18432,
  moe_intermediate_size: 2048,
  num_hidden_layers: 61,
  first_k_dense_replace: 3,
  num_attention_heads: 128,
  num_key_value_heads: 128,
  q_lora_rank: 1536,
  kv_lora_rank: 512,
  qk_nope_head_dim: 128,
  qk_rope_head_dim: 64,
  v_head_dim: 128,
  n_routed_experts: 256,
  n_shared_experts: 1,
  num_experts_per_tok: 8,
  n_group: 8,
  topk_group: 4,
  max_position_embeddings: 163840,
  quantization_config: { activation_scheme: 'dynamic', fmt: 'e4m3', quant_method: 'fp8', weight_block_size: [128, 128] },
  rope_scaling: {
    beta_fast: 32,
    beta_slow: 1,
    factor: 40,
    mscale: 1.0,
    mscale_all_dim: 1.0,
    original_max_position_embeddings: 4096,
    type: 'yarn',
    rope_theta: 10000,
    rope_type: 'yarn',
  },
} as const;

/** Built-in configs by the name `--model` accepts. */
export const BUILTIN_MODELS: Readonly<Record<string, object>> = { 'deepseek-v3-671b': DEEPSEEK_V3_671B_CONFIG };

/** The typed config of a built-in model, or undefined when `name` is not one. */
export function builtinModel(name: string): ModelConfig | undefined {
  const json = BUILTIN_MODELS[name];
  return json === undefined ? undefined : parseConfig(structuredClone(json), `built-in ${name}`);
}
