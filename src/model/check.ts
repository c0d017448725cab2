/**
 * The load-time check that a config.json describes its weights: every declared tensor present with
 * exactly its declared shape, and no stored layers beyond num_hidden_layers. Without it a config
 * whose hidden_size, intermediate_size or vocab_size contradicts the weights could load and compute
 * nonsense, and one with more layers or heads than stored died in a reshape with a stack trace.
 */
import type { ModelConfig } from '../io/config.ts';
import { UserFacingError } from '../io/errors.ts';
import type { ParamDecl } from './declare.ts';
import type { Weights } from './weights.ts';

export class WeightMismatchError extends UserFacingError {
  constructor(message: string) {
    super(`config.json does not match the weights: ${message}`);
    this.name = 'WeightMismatchError';
  }
}

const LAYER = /^model\.layers\.(\d+)\./;
const fmt = (shape: readonly number[]) => `[${shape.join(', ')}]`;

/** The largest layer index among stored tensor names (−1 when none). */
function lastStoredLayer(names: readonly string[]): number {
  let last = -1;
  for (const n of names) {
    const m = LAYER.exec(n);
    if (m) last = Math.max(last, Number(m[1]));
  }
  return last;
}

/**
 * Throws WeightMismatchError (one line, user-facing) at the first contradiction. MTP modules are
 * optional for inference: a module whose eh_proj is not stored is skipped, as the family skips it.
 */
export function checkWeights(config: ModelConfig, decls: readonly ParamDecl[], w: Weights): void {
  const names = w.names();
  const skippedMtp = new Set<number>();
  for (const d of decls) {
    if (d.mtp !== undefined && (skippedMtp.has(d.mtp) || !w.maybe(`model.layers.${config.numHiddenLayers + d.mtp}.eh_proj.weight`))) {
      skippedMtp.add(d.mtp);
      continue;
    }
    const t = w.maybe(d.name);
    if (!t) {
      const layer = LAYER.exec(d.name);
      const last = lastStoredLayer(names);
      if (layer && Number(layer[1]) > last && d.mtp === undefined) {
        throw new WeightMismatchError(
          `num_hidden_layers is ${config.numHiddenLayers} but the weights hold ${last + 1} layers ('${d.name}' is missing)`,
        );
      }
      throw new WeightMismatchError(`tensor '${d.name}' ${fmt(d.shape)} is missing`);
    }
    if (t.shape.length !== d.shape.length || t.shape.some((n, i) => n !== d.shape[i])) {
      throw new WeightMismatchError(`'${d.name}' is stored as ${fmt(t.shape)} but the config implies ${fmt(d.shape)} (${dimsOf(config)})`);
    }
  }
  // Layers stored beyond the declared ones (bar unused MTP modules) mean the config drops part of the model.
  const declaredLayers = new Set(decls.map((d) => LAYER.exec(d.name)?.[1]).filter((x) => x !== undefined));
  for (const n of names) {
    const m = LAYER.exec(n);
    if (!m || declaredLayers.has(m[1]!) || n.includes('.eh_proj.') || w.maybe(`model.layers.${m[1]}.eh_proj.weight`)) continue;
    throw new WeightMismatchError(`the weights have layer ${m[1]} but num_hidden_layers is ${config.numHiddenLayers} ('${n}')`);
  }
}

/** The config fields the shapes derive from, to say what to look at. */
function dimsOf(c: ModelConfig): string {
  const common = `hidden_size ${c.hiddenSize}, vocab_size ${c.vocabSize}, num_attention_heads ${c.numAttentionHeads}`;
  if (c.modelType === 'llama' || c.modelType === 'qwen2') {
    return `${common}, num_key_value_heads ${c.numKeyValueHeads}, head_dim ${c.headDim}, intermediate_size ${c.intermediateSize}`;
  }
  return `${common}, intermediate_size ${c.intermediateSize}, moe_intermediate_size ${c.moeIntermediateSize}, n_routed_experts ${c.nRoutedExperts}`;
}
