/**
 * Typed model configs: one interface per family, a discriminated union on `modelType`. Field names
 * are the HF config.json keys in camelCase (and the papers' words: `kvLoraRank`,
 * `routedScalingFactor`), with every default already applied, so downstream code never looks at
 * the raw JSON or guesses a default.
 */

/** RoPE frequency scaling. `default` means plain RoPE (config had no rope_scaling, or null). */
export type RopeScaling = RopeDefault | RopeYarn | RopeLlama3;

export interface RopeDefault {
  readonly type: 'default';
}

/**
 * YaRN (Peng et al., 2023) as used by DeepSeek-V2/V3: NTK-by-parts interpolation between
 * `betaFast` and `betaSlow` rotations, plus an attention temperature from `mscale`/`mscaleAllDim`.
 * `mscale`, `mscaleAllDim` and `attentionFactor` are null when the config leaves them out, because
 * transformers treats "absent" differently from any value (attention factor 0.1·ln(factor)+1 then).
 */
export interface RopeYarn {
  readonly type: 'yarn';
  readonly factor: number;
  /** Context length the model was pre-trained at; `max_position_embeddings` when absent. */
  readonly originalMaxPositionEmbeddings: number;
  readonly betaFast: number;
  readonly betaSlow: number;
  readonly mscale: number | null;
  readonly mscaleAllDim: number | null;
  readonly attentionFactor: number | null;
}

/** Llama 3.1's scaling: long wavelengths divided by `factor`, short ones kept, smooth in between. */
export interface RopeLlama3 {
  readonly type: 'llama3';
  readonly factor: number;
  readonly lowFreqFactor: number;
  readonly highFreqFactor: number;
  readonly originalMaxPositionEmbeddings: number;
}

/**
 * FP8 block-scaled weights as DeepSeek-V3 ships them: e4m3fn weights with one f32
 * `weight_scale_inv` per `weightBlockSize[0]` × `weightBlockSize[1]` block (w = fp8 × scale_inv).
 */
export interface Fp8Quantization {
  readonly quantMethod: 'fp8';
  readonly fmt: 'e4m3';
  readonly weightBlockSize: readonly [number, number];
  /** 'dynamic': activations are quantised per token-group at run time; 'static': fixed scales. */
  readonly activationScheme: 'dynamic' | 'static';
}

/**
 * Integer block-quantised weights as `dsts quantize` writes them: `q8` int8 (I8 [N, K]) or `q4` int4
 * (U8 [N, K/2], two codes a byte in 32-wide blocks), each with an F32 `weight_scale_inv` [N, K/32]
 * (w = code × scale_inv). Only deepseek-ts reads this layout.
 */
export interface IntQuantization {
  readonly quantMethod: 'dsts';
  readonly scheme: 'q8' | 'q4';
  readonly weightBlockSize: readonly [1, 32];
}

/** Fields every family has. */
export interface CommonConfig {
  /** The file (or label) this config was parsed from, for messages. */
  readonly source: string;
  readonly architectures: readonly string[];
  readonly vocabSize: number;
  readonly hiddenSize: number;
  /** FFN width of dense layers. */
  readonly intermediateSize: number;
  readonly numHiddenLayers: number;
  readonly numAttentionHeads: number;
  /** Key/value heads (GQA); equals numAttentionHeads when the config omits it. */
  readonly numKeyValueHeads: number;
  readonly maxPositionEmbeddings: number;
  readonly rmsNormEps: number;
  readonly ropeTheta: number;
  readonly ropeScaling: RopeScaling;
  /** When true the output head reuses the embedding matrix (no `lm_head.weight` in the checkpoint). */
  readonly tieWordEmbeddings: boolean;
  readonly hiddenAct: string;
  readonly initializerRange: number;
  readonly attentionDropout: number;
  readonly bosTokenId: number | null;
  readonly eosTokenId: number | readonly number[] | null;
  readonly padTokenId: number | null;
  /** Storage dtype the checkpoint declares (`torch_dtype`, or `dtype` in newer files), if any. */
  readonly torchDtype: string | null;
  readonly quantization: Fp8Quantization | IntQuantization | null;
}

/** Multi-head Latent Attention and DeepSeekMoE fields shared by DeepSeek-V2 and V3. */
export interface DeepseekCommonConfig extends CommonConfig {
  readonly modelType: 'deepseek_v3' | 'deepseek_v2';
  /** Rank of the query compression (q_a_proj → q_b_proj); null: plain `q_proj` (V2-Lite). */
  readonly qLoraRank: number | null;
  /** Rank of the joint key/value compression: the latent cached per token. */
  readonly kvLoraRank: number;
  readonly qkNopeHeadDim: number;
  /** Decoupled RoPE dimension, shared by all heads for keys. */
  readonly qkRopeHeadDim: number;
  /** qkNopeHeadDim + qkRopeHeadDim. */
  readonly qkHeadDim: number;
  readonly vHeadDim: number;
  /** RoPE on interleaved (even, odd) pairs, as DeepSeek's weights expect. */
  readonly ropeInterleave: boolean;
  readonly attentionBias: boolean;
  readonly nRoutedExperts: number;
  readonly nSharedExperts: number;
  /** Routed experts chosen per token (top-k). */
  readonly numExpertsPerTok: number;
  /** FFN width of each routed (and, times nSharedExperts, the shared) expert. */
  readonly moeIntermediateSize: number;
  /** Expert groups (device-limited routing); 1 when routing is not grouped. */
  readonly nGroup: number;
  /** Groups a token may route into. */
  readonly topkGroup: number;
  readonly topkMethod: 'noaux_tc' | 'greedy' | 'group_limited_greedy';
  readonly scoringFunc: 'sigmoid' | 'softmax';
  /** Renormalise the top-k weights to sum to 1. */
  readonly normTopkProb: boolean;
  readonly routedScalingFactor: number;
  /** Layers 0..k-1 use a dense FFN instead of MoE. */
  readonly firstKDenseReplace: number;
  /** Among layers ≥ firstKDenseReplace, every moeLayerFreq-th is MoE. */
  readonly moeLayerFreq: number;
  readonly auxLossAlpha: number;
  readonly seqAux: boolean;
  /** Multi-token-prediction modules stored after the main layers (layer ids numHiddenLayers…). */
  readonly numNextnPredictLayers: number;
}

export interface DeepseekV3Config extends DeepseekCommonConfig {
  readonly modelType: 'deepseek_v3';
}

export interface DeepseekV2Config extends DeepseekCommonConfig {
  readonly modelType: 'deepseek_v2';
}

export interface LlamaConfig extends CommonConfig {
  readonly modelType: 'llama';
  readonly headDim: number;
  /** Bias on q/k/v/o projections. */
  readonly attentionBias: boolean;
  /** Bias on gate/up/down projections. */
  readonly mlpBias: boolean;
}

/** Qwen2: like Llama, but q/k/v projections always carry a bias (o_proj does not). */
export interface Qwen2Config extends CommonConfig {
  readonly modelType: 'qwen2';
  readonly headDim: number;
  readonly useSlidingWindow: boolean;
  /** Window size when useSlidingWindow, else null (transformers' rule). */
  readonly slidingWindow: number | null;
  readonly maxWindowLayers: number;
}

export type ModelConfig = DeepseekV3Config | DeepseekV2Config | LlamaConfig | Qwen2Config;
export type ModelType = ModelConfig['modelType'];
export const MODEL_TYPES: readonly ModelType[] = ['deepseek_v3', 'deepseek_v2', 'qwen2', 'llama'];
