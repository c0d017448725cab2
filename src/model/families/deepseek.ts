/**
 * DeepSeek-V2 and DeepSeek-V3: MLA attention in every block, dense SwiGLU FFN in the first
 * `first_k_dense_replace` blocks and DeepSeekMoE after, and (V3) MTP modules after the last block.
 */
import type { DeepseekV2Config, DeepseekV3Config } from '../../io/config.ts';
import { isMoeLayer } from '../../io/config.ts';
import { CausalLM } from '../causal-lm.ts';
import { DecoderLayer, decoderNormParams, type DecoderNormParams } from '../decoder.ts';
import { MultiHeadLatentAttention, mlaParams, type MlaParams } from '../mla.ts';
import { DeepSeekMoE, moeParams, type MoeParams } from '../moe.ts';
import { Mlp, mlpParams, type MlpParams } from '../mlp.ts';
import { MtpModule, mtpParams, type MtpParams } from '../mtp.ts';
import { RotaryEmbedding, yarnMscale } from '../rope.ts';
import { flattenDecls, markMtp, matrix, norm, type ParamDecl } from '../declare.ts';
import type { Weights } from '../weights.ts';

type DeepseekConfig = DeepseekV2Config | DeepseekV3Config;

/**
 * The softmax scale of MLA: 1/√(qk_head_dim), times mscale² under YaRN (the long-context
 * temperature correction of DeepSeek's code, which the V2 and V3 goldens both follow).
 */
export function mlaSoftmaxScale(c: DeepseekConfig): number {
  let scale = 1 / Math.sqrt(c.qkHeadDim);
  const rs = c.ropeScaling;
  if (rs.type === 'yarn' && rs.mscaleAllDim) {
    const m = yarnMscale(rs.factor, rs.mscaleAllDim);
    scale *= m * m;
  }
  return scale;
}

interface BlockParams {
  readonly norms: DecoderNormParams;
  readonly attention: MlaParams;
  readonly ffn: { readonly dense: MlpParams } | { readonly moe: MoeParams };
}

/** Decoder block `i` (MTP blocks continue the numbering and follow the same MoE rule). */
function blockParams(c: DeepseekConfig, i: number): BlockParams {
  const p = `model.layers.${i}`;
  return {
    norms: decoderNormParams(p, c.hiddenSize),
    attention: mlaParams(`${p}.self_attn`, c),
    ffn: isMoeLayer(c, i)
      ? { moe: moeParams(`${p}.mlp`, c) }
      : { dense: mlpParams(`${p}.mlp`, c.hiddenSize, c.intermediateSize, 'denseMlp') },
  };
}

interface DeepseekParams {
  readonly embed: ParamDecl;
  readonly layers: readonly BlockParams[];
  /** V3 only (transformers' accounting has no MTP for V2); module k at layer num_hidden_layers + k. */
  readonly mtp: readonly { readonly own: MtpParams; readonly block: BlockParams }[];
  readonly norm: ParamDecl;
  /** Absent when the head is tied to the embedding. */
  readonly head?: ParamDecl;
}

function deepseekParams(c: DeepseekConfig): DeepseekParams {
  const modules = c.modelType === 'deepseek_v3' ? c.numNextnPredictLayers : 0;
  return {
    embed: matrix('model.embed_tokens.weight', c.vocabSize, c.hiddenSize, 'embedding'),
    layers: Array.from({ length: c.numHiddenLayers }, (_, i) => blockParams(c, i)),
    mtp: Array.from({ length: modules }, (_, k) => {
      const i = c.numHiddenLayers + k;
      return { own: mtpParams(`model.layers.${i}`, c.hiddenSize), block: blockParams(c, i) };
    }),
    norm: norm('model.norm.weight', c.hiddenSize),
    head: c.tieWordEmbeddings ? undefined : matrix('lm_head.weight', c.vocabSize, c.hiddenSize, 'lmHead'),
  };
}

/** Every parameter of the family, in a fixed order (init draws its random numbers in this order). */
export function declareDeepseek(c: DeepseekConfig): ParamDecl[] {
  const p = deepseekParams(c);
  return [p.embed, ...flattenDecls(p.layers), ...p.mtp.flatMap((m, k) => markMtp(flattenDecls(m), k)), p.norm, ...(p.head ? [p.head] : [])];
}

function block(w: Weights, c: DeepseekConfig, p: BlockParams, prefix: string): DecoderLayer {
  const attn = new MultiHeadLatentAttention(w, `${prefix}.self_attn`, c, mlaSoftmaxScale(c));
  const ffn = 'moe' in p.ffn ? new DeepSeekMoE(w, p.ffn.moe, c) : new Mlp(w, p.ffn.dense);
  return new DecoderLayer(w, p.norms, attn, ffn, c.rmsNormEps);
}

/** Builds the model; MTP modules are included when the weights have them. */
export function buildDeepseek(c: DeepseekConfig, w: Weights): CausalLM {
  const p = deepseekParams(c);
  const layers = p.layers.map((b, i) => block(w, c, b, `model.layers.${i}`));
  const mtp: MtpModule[] = [];
  for (const [k, m] of p.mtp.entries()) {
    if (!w.maybe(m.own.ehProj.name)) break;
    mtp.push(new MtpModule(w, m.own, block(w, c, m.block, `model.layers.${c.numHiddenLayers + k}`), c.rmsNormEps));
  }
  const embed = w.get(p.embed.name);
  return new CausalLM({
    embed,
    layers,
    norm: w.get(p.norm.name),
    // Tied: the embedding, unless the loader made the head a quantised copy of its own.
    head: p.head ? w.get(p.head.name) : (w.maybe('lm_head.weight') ?? embed),
    rotary: new RotaryEmbedding({
      theta: c.ropeTheta,
      dim: c.qkRopeHeadDim,
      maxPositionEmbeddings: c.maxPositionEmbeddings,
      scaling: c.ropeScaling,
    }),
    eps: c.rmsNormEps,
    mtp,
  });
}
