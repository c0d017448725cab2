/**
 * The fields every family shares, read with the family's own defaults. Dimensions that size the
 * model (vocab, hidden, FFN width, layers, heads) are required: transformers would quietly fill in
 * its flagship's sizes (a 671B shape for a config that forgot `hidden_size`), which is never what a
 * user with a malformed file wants. Behavioural keys take transformers' defaults.
 */
import { parseQuantization } from './quantization.ts';
import type { ConfigReader } from './reader.ts';
import { parseRope } from './rope.ts';
import type { CommonConfig } from './types.ts';

/** Defaults that differ between the families' transformers config classes. */
export interface CommonDefaults {
  maxPositionEmbeddings: number;
  bosTokenId: number | null;
  eosTokenId: number | null;
}

export function parseCommon(r: ConfigReader, d: CommonDefaults): CommonConfig {
  const hiddenSize = r.int('hidden_size');
  const numAttentionHeads = r.int('num_attention_heads');
  const numKeyValueHeads = r.intOr('num_key_value_heads', numAttentionHeads);
  r.require(
    numAttentionHeads % numKeyValueHeads === 0,
    'num_key_value_heads',
    `must divide num_attention_heads (${numAttentionHeads}), got ${numKeyValueHeads}`,
  );
  const maxPositionEmbeddings = r.intOr('max_position_embeddings', d.maxPositionEmbeddings);
  const rmsNormEps = r.numOr('rms_norm_eps', 1e-6);
  r.require(rmsNormEps > 0, 'rms_norm_eps', `must be positive, got ${rmsNormEps}`);
  return {
    source: r.source,
    architectures: r.stringList('architectures'),
    vocabSize: r.int('vocab_size'),
    hiddenSize,
    intermediateSize: r.int('intermediate_size'),
    numHiddenLayers: r.int('num_hidden_layers'),
    numAttentionHeads,
    numKeyValueHeads,
    maxPositionEmbeddings,
    rmsNormEps,
    ...parseRope(r, maxPositionEmbeddings),
    tieWordEmbeddings: r.boolOr('tie_word_embeddings', false),
    hiddenAct: r.strOr('hidden_act', 'silu'),
    initializerRange: r.numOr('initializer_range', 0.02),
    attentionDropout: r.numOr('attention_dropout', 0),
    bosTokenId: r.tokenId('bos_token_id', d.bosTokenId),
    eosTokenId: r.tokenIds('eos_token_id', d.eosTokenId),
    padTokenId: r.tokenId('pad_token_id', null),
    torchDtype: r.strOr('torch_dtype', r.strOr('dtype', null)),
    quantization: parseQuantization(r),
  };
}
