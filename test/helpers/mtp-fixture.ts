/**
 * Fixture models with an MTP module added. The fixtures come from transformers, which drops the MTP
 * layer of DeepSeek-V3 checkpoints; this gives one a randomly initialised module (layer
 * num_hidden_layers, the released layout). Its eh_proj passes the next token's embedding through
 * (plus noise) and its block is small and random, so it guesses roughly what the main model would
 * say after that token alone: right often enough that drafts are accepted, wrong often enough that
 * rejection, replacement and rollback run too.
 */
import { loadModel } from '../../src/model/load.ts';
import { buildModel } from '../../src/model/registry.ts';
import { initWeights } from '../../src/model/init.ts';
import type { Weights } from '../../src/model/weights.ts';
import type { CausalLM } from '../../src/model/causal-lm.ts';
import type { ModelConfig } from '../../src/io/config.ts';
import { noGrad } from '../../src/tensor/index.ts';
import { fixture } from './fixtures.ts';

/** A DeepSeek-V3 fixture with its own weights plus a random MTP module (seeded). */
export function fixtureWithMtp(name: string, seed = 7): { config: ModelConfig; model: CausalLM } {
  const loaded = loadModel(fixture('models', name));
  const { config } = loaded;
  const fresh = noGrad(() => initWeights(config, seed));
  const prefix = `model.layers.${config.numHiddenLayers}.`;
  const D = config.hiddenSize;
  const eh = fresh.get(`${prefix}eh_proj.weight`).data; // [D, 2D]: the embedding half first
  for (let i = 0; i < D; i++) eh[i * 2 * D + i] = Number(eh[i * 2 * D + i]) + 1;
  const weights: Weights = {
    get: (n) => (n.startsWith(prefix) ? fresh.get(n) : loaded.weights.get(n)),
    maybe: (n) => (n.startsWith(prefix) ? fresh.maybe(n) : loaded.weights.maybe(n)),
    names: () => [...loaded.weights.names(), ...fresh.names().filter((n) => n.startsWith(prefix))],
  };
  const model = buildModel(config, weights);
  if (model.mtpDepth !== 1) throw new Error(`${name}: expected one MTP module, built ${model.mtpDepth}`);
  return { config, model };
}
