/**
 * DeepSeek-V2 and DeepSeek-V3: MLA attention in every block, dense SwiGLU FFN in the first
 * `first_k_dense_replace` blocks and DeepSeekMoE after, and (V3) MTP modules after the last block.
 */
import type { DeepseekV2Config, DeepseekV3Config } from '../../io/config.ts';
import { isMoeLayer } from '../../io/config.ts';
import { CausalLM } from '../causal-lm.ts';
import { DecoderLayer } from '../decoder.ts';
import { MultiHeadLatentAttention } from '../mla.ts';
import { DeepSeekMoE } from '../moe.ts';
import { Mlp } from '../mlp.ts';
import { MtpModule } from '../mtp.ts';
import { RotaryEmbedding, yarnMscale } from '../rope.ts';
import type { Weights } from '../weights.ts';

/**
 * The softmax scale of MLA: 1/√(qk_head_dim), times mscale² under YaRN (the long-context
 * temperature correction of DeepSeek's code, which the V2 and V3 goldens both follow).
 */
export function mlaSoftmaxScale(c: DeepseekV2Config | DeepseekV3Config): number {
  let scale = 1 / Math.sqrt(c.qkHeadDim);
  const rs = c.ropeScaling;
  if (rs.type === 'yarn' && rs.mscaleAllDim) {
    const m = yarnMscale(rs.factor, rs.mscaleAllDim);
    scale *= m * m;
  }
  return scale;
}

function block(w: Weights, c: DeepseekV2Config | DeepseekV3Config, i: number): DecoderLayer {
  const prefix = `model.layers.${i}`;
  const attn = new MultiHeadLatentAttention(w, `${prefix}.self_attn`, c, mlaSoftmaxScale(c));
  const ffn = isMoeLayer(c, i) ? new DeepSeekMoE(w, `${prefix}.mlp`, c) : new Mlp(w, `${prefix}.mlp`);
  return new DecoderLayer(w, prefix, attn, ffn, c.rmsNormEps);
}

/** Builds the model; MTP modules are included when the weights have them. */
export function buildDeepseek(c: DeepseekV2Config | DeepseekV3Config, w: Weights): CausalLM {
  const layers = Array.from({ length: c.numHiddenLayers }, (_, i) => block(w, c, i));
  const mtp: MtpModule[] = [];
  for (let k = 0; k < c.numNextnPredictLayers; k++) {
    const i = c.numHiddenLayers + k;
    if (!w.maybe(`model.layers.${i}.eh_proj.weight`)) break;
    mtp.push(new MtpModule(w, `model.layers.${i}`, block(w, c, i), c.rmsNormEps));
  }
  const embed = w.get('model.embed_tokens.weight');
  return new CausalLM({
    embed,
    layers,
    norm: w.get('model.norm.weight'),
    head: c.tieWordEmbeddings ? (w.maybe('lm_head.weight') ?? embed) : w.get('lm_head.weight'),
    rotary: new RotaryEmbedding({ theta: c.ropeTheta, dim: c.qkRopeHeadDim, maxPositionEmbeddings: c.maxPositionEmbeddings, scaling: c.ropeScaling }),
    eps: c.rmsNormEps,
    mtp,
  });
}
