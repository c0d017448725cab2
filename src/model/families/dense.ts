/** Llama and Qwen2: the dense GQA transformers under DeepSeek-R1-Distill-Llama / -Qwen. */
import type { LlamaConfig, Qwen2Config } from '../../io/config.ts';
import { CausalLM } from '../causal-lm.ts';
import { DecoderLayer } from '../decoder.ts';
import { GroupedQueryAttention } from '../attention.ts';
import { Mlp } from '../mlp.ts';
import { RotaryEmbedding } from '../rope.ts';
import type { Weights } from '../weights.ts';

export function buildDense(c: LlamaConfig | Qwen2Config, w: Weights): CausalLM {
  const layers = Array.from({ length: c.numHiddenLayers }, (_, i) => {
    const prefix = `model.layers.${i}`;
    const attn = new GroupedQueryAttention(w, `${prefix}.self_attn`, c);
    return new DecoderLayer(w, prefix, attn, new Mlp(w, `${prefix}.mlp`), c.rmsNormEps);
  });
  const embed = w.get('model.embed_tokens.weight');
  return new CausalLM({
    embed,
    layers,
    norm: w.get('model.norm.weight'),
    head: c.tieWordEmbeddings ? (w.maybe('lm_head.weight') ?? embed) : w.get('lm_head.weight'),
    rotary: new RotaryEmbedding({ theta: c.ropeTheta, dim: c.headDim, maxPositionEmbeddings: c.maxPositionEmbeddings, scaling: c.ropeScaling }),
    eps: c.rmsNormEps,
    mtp: [],
  });
}
