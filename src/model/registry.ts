/** From a typed config to the family that declares and builds it. */
import type { ModelConfig } from '../io/config.ts';
import type { CausalLM } from './causal-lm.ts';
import type { Weights } from './weights.ts';
import type { ParamDecl } from './declare.ts';
import { checkWeights } from './check.ts';
import { buildDeepseek, declareDeepseek } from './families/deepseek.ts';
import { buildDense, declareDense } from './families/dense.ts';

/** Every parameter `config` describes (names, shapes, init, part), in a fixed order. */
export function declareModel(config: ModelConfig): ParamDecl[] {
  switch (config.modelType) {
    case 'deepseek_v3':
    case 'deepseek_v2':
      return declareDeepseek(config);
    case 'llama':
    case 'qwen2':
      return declareDense(config);
  }
}

/** Builds the model after checking that the weights are the ones `config` describes (check.ts). */
export function buildModel(config: ModelConfig, weights: Weights): CausalLM {
  checkWeights(config, declareModel(config), weights);
  switch (config.modelType) {
    case 'deepseek_v3':
    case 'deepseek_v2':
      return buildDeepseek(config, weights);
    case 'llama':
    case 'qwen2':
      return buildDense(config, weights);
  }
}
