/**
 * Llama and Qwen2 configs: the dense GQA transformers behind DeepSeek-R1's distilled models
 * (R1-Distill-Llama, R1-Distill-Qwen). Defaults from transformers' LlamaConfig / Qwen2Config.
 */
import { parseCommon } from './common.ts';
import type { ConfigReader } from './reader.ts';
import type { LlamaConfig, Qwen2Config } from './types.ts';

/** `head_dim`, or hidden_size / num_attention_heads (which must then divide evenly). */
function headDim(r: ConfigReader, hiddenSize: number, heads: number): number {
  if (r.has('head_dim') && r.raw('head_dim') !== null) return r.int('head_dim');
  r.require(
    hiddenSize % heads === 0,
    'num_attention_heads',
    `must divide hidden_size (${hiddenSize}) when head_dim is absent, got ${heads}`,
  );
  return hiddenSize / heads;
}

export function parseLlama(r: ConfigReader): LlamaConfig {
  const common = parseCommon(r, { maxPositionEmbeddings: 2048, bosTokenId: 1, eosTokenId: 2 });
  return {
    modelType: 'llama',
    ...common,
    headDim: headDim(r, common.hiddenSize, common.numAttentionHeads),
    attentionBias: r.boolOr('attention_bias', false),
    mlpBias: r.boolOr('mlp_bias', false),
  };
}

export function parseQwen2(r: ConfigReader): Qwen2Config {
  const common = parseCommon(r, { maxPositionEmbeddings: 32768, bosTokenId: null, eosTokenId: null });
  const useSlidingWindow = r.boolOr('use_sliding_window', false);
  return {
    modelType: 'qwen2',
    ...common,
    headDim: headDim(r, common.hiddenSize, common.numAttentionHeads),
    useSlidingWindow,
    slidingWindow: useSlidingWindow ? r.intOr('sliding_window', 4096) : null,
    maxWindowLayers: r.intOr('max_window_layers', 28, 0),
  };
}
