/**
 * Random initialisation of a model for pre-training, with the HF tensor names and shapes every family
 * reads (the declarations of declare.ts), so a freshly initialised model is built, trained and saved
 * exactly like a loaded checkpoint.
 *
 * The distribution is transformers' `_init_weights`: every Linear and Embedding matrix
 * ~ Normal(0, σ), biases 0, RMSNorm weights 1; σ is the config's initializer_range unless the run
 * gives one (DeepSeek-V3 §4.2 uses 0.006). DeepSeek-V3's router bias `e_score_correction_bias` starts
 * at 0 and is *not* a gradient parameter: the auxiliary-loss-free balancer moves it (§2.1.2), so it
 * is the one leaf left without `requireGrad`.
 */
import { Tensor, Rng } from '../tensor/index.ts';
import type { ModelConfig } from '../io/config.ts';
import { MapWeights } from './weights.ts';
import { declareModel } from './registry.ts';

/**
 * Fresh f32 weights for `config`: every declared tensor, under the HF names, as leaves that require
 * grad (except the router correction bias). The same seed gives the same weights.
 */
export function initWeights(config: ModelConfig, seed: number, std = config.initializerRange): MapWeights {
  const rng = new Rng(seed);
  const tensors = new Map<string, Tensor>();
  for (const d of declareModel(config)) {
    const shape = [...d.shape];
    let t: Tensor;
    if (d.init === 'normal') t = Tensor.randn(shape, rng, std);
    else if (d.init === 'ones') t = Tensor.ones(shape);
    else t = Tensor.zeros(shape);
    tensors.set(d.name, d.grad ? t.requireGrad() : t);
  }
  return new MapWeights(tensors, `the initialised ${config.modelType} weights`);
}
