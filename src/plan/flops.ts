/**
 * Training FLOPs per token from the model's shapes (shapes.ts), counted as the matrix products of the
 * forward pass (2 FLOPs per multiply-add) times three: the backward pass computes the gradients of
 * both the inputs and the weights, each as costly as the forward (Kaplan et al. 2020; Narayanan et
 * al. 2021). Recomputation is not counted: these are the model FLOPs MFU is quoted in.
 *
 * Per token, forward:
 * - every matrix it multiplies by: MLA's down/up projections (q_a, q_b, kv_a, kv_b) and output,
 *   the router's gate over all experts, the shared experts and its top-k routed experts, dense FFNs;
 * - the output head (embedding lookups cost nothing);
 * - attention's quadratic term: scores and weighted sum over the keys it attends to,
 *   2·heads·(d_qk + d_v) per key: on average (L+1)/2 keys under a causal mask at context L
 *   ('causal', what a causal kernel computes), or L ('full', the convention of PaLM's and
 *   DeepSeek LLM's 6N + 12·layers·d·L formulas);
 * - each MTP module: its eh_proj and transformer block, and the shared output head again.
 */
import { mainLayers, mtpLayers, type ModelShape } from './shapes.ts';

export type AttentionCount = 'causal' | 'full';

export interface FlopsOptions {
  /** Context length L of the training sequences. */
  seqLen: number;
  /** 'causal' (default): (L+1)/2 keys per query on average; 'full': L. */
  attention?: AttentionCount;
  /** Count the MTP modules (default true when the model has them). */
  mtp?: boolean;
}

/** Training (forward + backward) FLOPs per token, by part. */
export interface FlopsPerToken {
  /** Matrix products of the main layers (weights only). */
  layers: number;
  /** The attention scores and weighted sums of the main layers. */
  attention: number;
  head: number;
  /** Everything the MTP modules add (their layers, attention and the shared head). */
  mtp: number;
  total: number;
  /** 6·N with N the activated parameters without embedding (the usual shortcut), for comparison. */
  sixN: number;
}

/** Forward FLOPs per token of one layer's attention term at context L. */
export function attentionKeys(seqLen: number, count: AttentionCount): number {
  return count === 'causal' ? (seqLen + 1) / 2 : seqLen;
}

export function flopsPerToken(s: ModelShape, o: FlopsOptions): FlopsPerToken {
  const keys = attentionKeys(o.seqLen, o.attention ?? 'causal');
  const train = 3; // forward + backward (input and weight gradients)
  const main = mainLayers(s);
  const layers = train * 2 * main.reduce((a, l) => a + l.matmulPerToken, 0);
  const attention = train * main.length * s.attentionFlopsPerKey * keys;
  const head = train * 2 * s.headMatmul;
  const m = o.mtp === false ? [] : mtpLayers(s);
  const modules = new Set(m.map((l) => l.mtp)).size;
  const mtp = train * 2 * m.reduce((a, l) => a + l.matmulPerToken, 0) + train * m.length * s.attentionFlopsPerKey * keys + modules * head;
  const activatedNoEmbedding = main.reduce((a, l) => a + l.matmulPerToken, 0) + s.headMatmul;
  return { layers, attention, head, mtp, total: layers + attention + head + mtp, sixN: 6 * activatedNoEmbedding };
}

/** Forward FLOPs of one main layer for one token at context L (the pipeline's and EP's unit of work). */
export function layerForwardFlops(s: ModelShape, index: number, seqLen: number, count: AttentionCount = 'causal'): number {
  const l = s.layers.find((x) => x.index === index);
  if (l === undefined) throw new RangeError(`no layer ${index}`);
  return 2 * l.matmulPerToken + s.attentionFlopsPerKey * attentionKeys(seqLen, count);
}
