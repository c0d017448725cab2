/**
 * DeepSeek-V2 and V3 configs: Multi-head Latent Attention plus DeepSeekMoE. The two differ only in
 * defaults (V3: sigmoid scores with the aux-loss-free `noaux_tc` router, 8 groups / top-4, 3 dense
 * layers, one MTP module; V2: softmax, `greedy`, no grouping) and in which keys their releases set.
 * Defaults come from transformers' DeepseekV3Config / DeepseekV2Config, and, for keys transformers
 * dropped (topk_method, scoring_func, moe_layer_freq, num_nextn_predict_layers), from the
 * configuration_deepseek.py shipped with the released checkpoints.
 */
import { parseCommon } from './common.ts';
import type { ConfigReader } from './reader.ts';
import type { DeepseekCommonConfig, DeepseekV2Config, DeepseekV3Config } from './types.ts';

interface DeepseekDefaults {
  maxPositionEmbeddings: number;
  bosTokenId: number;
  eosTokenId: number;
  nSharedExperts: number;
  routedScalingFactor: number;
  nGroup: number;
  topkGroup: number;
  firstKDenseReplace: number;
  normTopkProb: boolean;
  topkMethod: DeepseekCommonConfig['topkMethod'];
  scoringFunc: DeepseekCommonConfig['scoringFunc'];
  numNextnPredictLayers: number;
}

const V3: DeepseekDefaults = {
  maxPositionEmbeddings: 4096,
  bosTokenId: 0,
  eosTokenId: 1,
  nSharedExperts: 1,
  routedScalingFactor: 2.5,
  nGroup: 8,
  topkGroup: 4,
  firstKDenseReplace: 3,
  normTopkProb: true,
  topkMethod: 'noaux_tc',
  scoringFunc: 'sigmoid',
  numNextnPredictLayers: 1,
};

const V2: DeepseekDefaults = {
  maxPositionEmbeddings: 2048,
  bosTokenId: 1,
  eosTokenId: 2,
  nSharedExperts: 2,
  routedScalingFactor: 1.0,
  nGroup: 1, // transformers: None, i.e. no grouping
  topkGroup: 1,
  firstKDenseReplace: 0,
  normTopkProb: false,
  topkMethod: 'greedy',
  scoringFunc: 'softmax',
  numNextnPredictLayers: 0,
};

function parseDeepseek(r: ConfigReader, d: DeepseekDefaults): Omit<DeepseekCommonConfig, 'modelType'> {
  const common = parseCommon(r, d);
  const qkNopeHeadDim = r.int('qk_nope_head_dim');
  const qkRopeHeadDim = r.int('qk_rope_head_dim');
  r.require(qkRopeHeadDim % 2 === 0, 'qk_rope_head_dim', `must be even (RoPE rotates pairs), got ${qkRopeHeadDim}`);

  const nRoutedExperts = r.int('n_routed_experts');
  const numExpertsPerTok = r.int('num_experts_per_tok');
  r.require(
    numExpertsPerTok <= nRoutedExperts,
    'num_experts_per_tok',
    `must not exceed n_routed_experts (${nRoutedExperts}), got ${numExpertsPerTok}`,
  );
  const nGroup = r.intOr('n_group', d.nGroup);
  const topkGroup = r.intOr('topk_group', d.topkGroup);
  r.require(nRoutedExperts % nGroup === 0, 'n_group', `must divide n_routed_experts (${nRoutedExperts}), got ${nGroup}`);
  r.require(topkGroup <= nGroup, 'topk_group', `must not exceed n_group (${nGroup}), got ${topkGroup}`);
  // The released remote code spelled the default 'gready'; accept it as what it meant.
  const topkMethod = r.oneOf('topk_method', ['noaux_tc', 'greedy', 'group_limited_greedy'] as const, d.topkMethod, { gready: 'greedy' });
  if (topkMethod !== 'greedy') {
    const perGroup = nRoutedExperts / nGroup;
    r.require(
      numExpertsPerTok <= topkGroup * perGroup,
      'num_experts_per_tok',
      `must fit in topk_group (${topkGroup}) groups of ${perGroup} experts, got ${numExpertsPerTok}`,
    );
    // noaux_tc scores a group by the sum of its two best experts.
    if (topkMethod === 'noaux_tc')
      r.require(perGroup >= 2, 'n_group', `noaux_tc needs at least 2 experts per group; ${nRoutedExperts} experts in ${nGroup} groups`);
  }
  const firstKDenseReplace = r.intOr('first_k_dense_replace', d.firstKDenseReplace, 0);
  r.require(
    firstKDenseReplace <= common.numHiddenLayers,
    'first_k_dense_replace',
    `must not exceed num_hidden_layers (${common.numHiddenLayers}), got ${firstKDenseReplace}`,
  );
  // An explicit null meant "no shared experts" in DeepSeek's own code; absent takes the default.
  const nSharedExperts = r.raw('n_shared_experts') === null ? 0 : r.intOr('n_shared_experts', d.nSharedExperts, 0);

  return {
    ...common,
    qLoraRank: r.intOrNull('q_lora_rank'),
    kvLoraRank: r.int('kv_lora_rank'),
    qkNopeHeadDim,
    qkRopeHeadDim,
    qkHeadDim: qkNopeHeadDim + qkRopeHeadDim,
    vHeadDim: r.int('v_head_dim'),
    ropeInterleave: r.boolOr('rope_interleave', true),
    attentionBias: r.boolOr('attention_bias', false),
    nRoutedExperts,
    nSharedExperts,
    numExpertsPerTok,
    moeIntermediateSize: r.int('moe_intermediate_size'),
    nGroup,
    topkGroup,
    topkMethod,
    scoringFunc: r.oneOf('scoring_func', ['sigmoid', 'softmax'] as const, d.scoringFunc),
    normTopkProb: r.boolOr('norm_topk_prob', d.normTopkProb),
    routedScalingFactor: r.numOr('routed_scaling_factor', d.routedScalingFactor),
    firstKDenseReplace,
    moeLayerFreq: r.intOr('moe_layer_freq', 1),
    auxLossAlpha: r.numOr('aux_loss_alpha', 0.001),
    seqAux: r.boolOr('seq_aux', true),
    numNextnPredictLayers: r.intOr('num_nextn_predict_layers', d.numNextnPredictLayers, 0),
  };
}

export function parseDeepseekV3(r: ConfigReader): DeepseekV3Config {
  return { modelType: 'deepseek_v3', ...parseDeepseek(r, V3) };
}

export function parseDeepseekV2(r: ConfigReader): DeepseekV2Config {
  return { modelType: 'deepseek_v2', ...parseDeepseek(r, V2) };
}

/**
 * Whether layer `i` (0-based; MTP modules continue the numbering) has a DeepSeekMoE FFN rather
 * than a dense one: the rule of DeepSeek's modeling code.
 */
export function isMoeLayer(c: DeepseekCommonConfig, i: number): boolean {
  return i >= c.firstKDenseReplace && i % c.moeLayerFreq === 0;
}
