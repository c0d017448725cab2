/**
 * A model's shapes as the planner needs them, derived from the same parameter declarations that
 * build, initialise and count the model (src/model/declare.ts): per layer (main and MTP) its
 * parameters split into what every token runs and the routed experts, and the matrices one token
 * multiplies by; the attention's per-key cost; the embedding and head. Nothing is counted twice:
 * `countParams` (src/model/params.ts) stays the source of the published totals.
 */
import { isMoeLayer, type ModelConfig } from '../io/config.ts';
import type { ParamDecl } from '../model/declare.ts';
import { declareModel } from '../model/registry.ts';

export interface LayerShape {
  /** Index in the checkpoint (`model.layers.<i>`); MTP modules follow the main layers. */
  index: number;
  moe: boolean;
  /** MTP module k (0-based) this layer belongs to, or null for a main layer. */
  mtp: number | null;
  /** Parameters every token uses (attention, norms, dense FFN, shared experts, router, MTP's eh_proj). */
  denseParams: number;
  /** All routed experts' parameters of this layer (0 for a dense layer). */
  expertParams: number;
  /** Entries of matrices one token multiplies by (its top-k routed experts only): forward FLOPs / 2. */
  matmulPerToken: number;
}

export interface ModelShape {
  config: ModelConfig;
  layers: LayerShape[];
  embedding: number;
  /** The output head's entries (the embedding's when tied): every position multiplies by it. */
  headMatmul: number;
  /** Stored head parameters (0 when tied). */
  head: number;
  finalNorm: number;
  /** Forward FLOPs of attention's scores and weighted sum, per query per attended key: 2·heads·(d_qk + d_v). */
  attentionFlopsPerKey: number;
  /** Routed experts per token and in total (0 for a dense model). */
  topK: number;
  experts: number;
}

const LAYER = /^model\.layers\.(\d+)\./;
const size = (d: ParamDecl) => d.shape.reduce((a, b) => a * b, 1);

/** Groups the model's parameter declarations by layer. */
export function modelShape(c: ModelConfig): ModelShape {
  const moeModel = c.modelType === 'deepseek_v3' || c.modelType === 'deepseek_v2';
  const topK = moeModel ? c.numExpertsPerTok : 0;
  const layers = new Map<number, LayerShape>();
  let embedding = 0;
  let head = 0;
  let finalNorm = 0;
  for (const d of declareModel(c)) {
    const n = size(d);
    const m = LAYER.exec(d.name);
    if (m === null) {
      if (d.part === 'embedding') embedding += n;
      else if (d.part === 'lmHead') head += n;
      else finalNorm += n;
      continue;
    }
    const index = Number(m[1]);
    let l = layers.get(index);
    if (l === undefined) {
      const mtp = d.mtp ?? null;
      l = { index, moe: moeModel && mtp === null ? isMoeLayer(c, index) : false, mtp, denseParams: 0, expertParams: 0, matmulPerToken: 0 };
      layers.set(index, l);
    }
    if (d.part === 'routedExperts') {
      l.moe = true;
      l.expertParams += n;
    } else l.denseParams += n;
    // Matrices multiply; vectors (norms, biases, the router's correction bias) add, which is noise.
    if (d.shape.length === 2 && (d.expert === undefined || d.expert < topK)) l.matmulPerToken += n;
  }
  const heads = c.numAttentionHeads;
  const [dqk, dv] = c.modelType === 'deepseek_v3' || c.modelType === 'deepseek_v2' ? [c.qkHeadDim, c.vHeadDim] : [c.headDim, c.headDim];
  return {
    config: c,
    layers: [...layers.values()].sort((a, b) => a.index - b.index),
    embedding,
    headMatmul: head > 0 ? head : embedding,
    head,
    finalNorm,
    attentionFlopsPerKey: 2 * heads * (dqk + dv),
    topK,
    experts: moeModel ? c.nRoutedExperts : 0,
  };
}

/** The main layers (no MTP). */
export const mainLayers = (s: ModelShape) => s.layers.filter((l) => l.mtp === null);
/** The MTP modules' layers. */
export const mtpLayers = (s: ModelShape) => s.layers.filter((l) => l.mtp !== null);
