/**
 * Parses RoPE settings: `rope_theta` and the scaling object, which older files call `rope_scaling`
 * (type under `type` or `rope_type`) and transformers ≥ 5 writes as `rope_parameters` (with
 * `rope_theta` inside). Supported: none/default, yarn (DeepSeek), llama3 (Llama 3.1).
 */
import type { ConfigReader } from './reader.ts';
import type { RopeScaling } from './types.ts';

export function parseRope(
  r: ConfigReader,
  maxPositionEmbeddings: number,
  defaultTheta = 10000,
): { ropeTheta: number; ropeScaling: RopeScaling } {
  const key = r.has('rope_parameters') ? 'rope_parameters' : 'rope_scaling';
  const obj = r.objectOrNull(key);
  const nested = obj === null ? null : r.nested(key, obj);
  const ropeTheta = r.numOr('rope_theta', nested?.numOr('rope_theta', defaultTheta) ?? defaultTheta);
  r.require(ropeTheta > 0, 'rope_theta', `must be positive, got ${ropeTheta}`);
  if (nested === null) return { ropeTheta, ropeScaling: { type: 'default' } };

  const typeKey = nested.has('rope_type') ? 'rope_type' : 'type';
  const type = nested.oneOf(typeKey, ['default', 'yarn', 'llama3'] as const, 'default');
  switch (type) {
    case 'default':
      return { ropeTheta, ropeScaling: { type: 'default' } };
    case 'yarn': {
      const factor = nested.num('factor');
      nested.require(factor > 0, 'factor', `must be positive, got ${factor}`);
      return {
        ropeTheta,
        ropeScaling: {
          type: 'yarn',
          factor,
          originalMaxPositionEmbeddings: nested.intOr('original_max_position_embeddings', maxPositionEmbeddings),
          betaFast: nested.numOr('beta_fast', 32),
          betaSlow: nested.numOr('beta_slow', 1),
          mscale: nested.numOrNull('mscale'),
          mscaleAllDim: nested.numOrNull('mscale_all_dim'),
          attentionFactor: nested.numOrNull('attention_factor'),
        },
      };
    }
    case 'llama3': {
      const low = nested.num('low_freq_factor');
      const high = nested.num('high_freq_factor');
      nested.require(high > low, 'high_freq_factor', `must exceed low_freq_factor (${low}), got ${high}`);
      return {
        ropeTheta,
        ropeScaling: {
          type: 'llama3',
          factor: nested.num('factor'),
          lowFreqFactor: low,
          highFreqFactor: high,
          originalMaxPositionEmbeddings: nested.int('original_max_position_embeddings'),
        },
      };
    }
  }
}
