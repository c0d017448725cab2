/** Llama and Qwen2: the dense GQA transformers under DeepSeek-R1-Distill-Llama / -Qwen. */
import type { LlamaConfig, Qwen2Config } from '../../io/config.ts';
import { CausalLM } from '../causal-lm.ts';
import { DecoderLayer, decoderNormParams } from '../decoder.ts';
import { GroupedQueryAttention } from '../attention.ts';
import { Mlp, mlpParams } from '../mlp.ts';
import { RotaryEmbedding } from '../rope.ts';
import { bias, flattenDecls, matrix, norm, type ParamDecl } from '../declare.ts';
import type { Weights } from '../weights.ts';

type DenseConfig = LlamaConfig | Qwen2Config;

/**
 * GroupedQueryAttention's tensors (it reads them by these names): q [H·d, hidden], k/v [Hkv·d, hidden],
 * o [hidden, H·d]; Qwen2 always biases q/k/v, Llama when attention_bias (o too).
 */
function gqaParams(p: string, c: DenseConfig): ParamDecl[] {
  const h = c.hiddenSize;
  const q = c.numAttentionHeads * c.headDim;
  const kv = c.numKeyValueHeads * c.headDim;
  const qkvBias = c.modelType === 'qwen2' || c.attentionBias;
  const oBias = c.modelType === 'llama' && c.attentionBias;
  const out: ParamDecl[] = [];
  for (const [n, rows] of [
    ['q_proj', q],
    ['k_proj', kv],
    ['v_proj', kv],
  ] as const) {
    out.push(matrix(`${p}.${n}.weight`, rows, h, 'attention'));
    if (qkvBias) out.push(bias(`${p}.${n}.bias`, rows, 'attention'));
  }
  out.push(matrix(`${p}.o_proj.weight`, h, q, 'attention'));
  if (oBias) out.push(bias(`${p}.o_proj.bias`, h, 'attention'));
  return out;
}

function blockParams(c: DenseConfig, i: number) {
  const p = `model.layers.${i}`;
  return {
    norms: decoderNormParams(p, c.hiddenSize),
    attention: gqaParams(`${p}.self_attn`, c),
    mlp: mlpParams(`${p}.mlp`, c.hiddenSize, c.intermediateSize, 'denseMlp', { bias: c.modelType === 'llama' && c.mlpBias }),
  };
}

/** Every parameter of the family, in a fixed order (init draws its random numbers in this order). */
export function declareDense(c: DenseConfig): ParamDecl[] {
  return [
    matrix('model.embed_tokens.weight', c.vocabSize, c.hiddenSize, 'embedding'),
    ...flattenDecls(Array.from({ length: c.numHiddenLayers }, (_, i) => blockParams(c, i))),
    norm('model.norm.weight', c.hiddenSize),
    // Tied embeddings: the head *is* the embedding matrix (some checkpoints store a copy anyway).
    ...(c.tieWordEmbeddings ? [] : [matrix('lm_head.weight', c.vocabSize, c.hiddenSize, 'lmHead')]),
  ];
}

export function buildDense(c: DenseConfig, w: Weights): CausalLM {
  const layers = Array.from({ length: c.numHiddenLayers }, (_, i) => {
    const prefix = `model.layers.${i}`;
    const p = blockParams(c, i);
    const attn = new GroupedQueryAttention(w, `${prefix}.self_attn`, c);
    return new DecoderLayer(w, p.norms, attn, new Mlp(w, p.mlp), c.rmsNormEps);
  });
  const embed = w.get('model.embed_tokens.weight');
  return new CausalLM({
    embed,
    layers,
    norm: w.get('model.norm.weight'),
    head: c.tieWordEmbeddings ? (w.maybe('lm_head.weight') ?? embed) : w.get('lm_head.weight'),
    rotary: new RotaryEmbedding({
      theta: c.ropeTheta,
      dim: c.headDim,
      maxPositionEmbeddings: c.maxPositionEmbeddings,
      scaling: c.ropeScaling,
    }),
    eps: c.rmsNormEps,
    mtp: [],
  });
}
