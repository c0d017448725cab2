/** From a typed config to the family that builds it. */
import type { ModelConfig } from '../io/config.ts';
import type { CausalLM } from './causal-lm.ts';
import type { Weights } from './weights.ts';
import { buildDeepseek } from './families/deepseek.ts';
import { buildDense } from './families/dense.ts';

export function buildModel(config: ModelConfig, weights: Weights): CausalLM {
  switch (config.modelType) {
    case 'deepseek_v3':
    case 'deepseek_v2':
      return buildDeepseek(config, weights);
    case 'llama':
    case 'qwen2':
      return buildDense(config, weights);
  }
}
