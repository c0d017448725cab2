/**
 * DeepSeekMoE (DeepSeek-V3 §2.1.2): fine-grained routed experts plus always-on shared experts.
 *
 * The router scores every expert per token (sigmoid in V3, softmax in V2), picks the top-k —
 * within the best `topk_group` of `n_group` expert groups when group-limited — and weights the
 * chosen experts' outputs by their (optionally renormalised, then scaled) scores. In V3 the
 * `e_score_correction_bias` is added to the scores *for choosing only*: that bias is the
 * auxiliary-loss-free load balancing, nudged after each training step toward equal load.
 */
import * as T from '../tensor/index.ts';
import { Tensor } from '../tensor/index.ts';
import type { Weights } from './weights.ts';
import { Mlp, mlpParams, type MlpParams } from './mlp.ts';
import { matrix, readGroup, type ParamDecl } from './declare.ts';

export interface MoeDims {
  nRoutedExperts: number;
  numExpertsPerTok: number;
  nGroup: number;
  topkGroup: number;
  topkMethod: 'noaux_tc' | 'greedy' | 'group_limited_greedy';
  scoringFunc: 'sigmoid' | 'softmax';
  normTopkProb: boolean;
  routedScalingFactor: number;
}

export interface MoeShape extends MoeDims {
  modelType: 'deepseek_v3' | 'deepseek_v2';
  hiddenSize: number;
  moeIntermediateSize: number;
  nSharedExperts: number;
}

/** Whether the router carries `e_score_correction_bias` (V3 always; V2 only with noaux_tc). */
export function hasCorrectionBias(c: Pick<MoeShape, 'modelType' | 'topkMethod'>): boolean {
  return c.modelType === 'deepseek_v3' || c.topkMethod === 'noaux_tc';
}

export interface RouterParams {
  readonly weight: ParamDecl;
  readonly bias?: ParamDecl;
}

export interface MoeParams {
  readonly router: RouterParams;
  readonly experts: readonly MlpParams[];
  /** transformers keeps the shared experts as one MLP of width moe_intermediate × n_shared. */
  readonly shared?: MlpParams;
}

/** The router (gate weight [E, hidden] and its correction bias [E]), routed and shared experts. */
export function moeParams(p: string, c: MoeShape): MoeParams {
  const E = c.nRoutedExperts;
  const h = c.hiddenSize;
  return {
    router: {
      weight: matrix(`${p}.gate.weight`, E, h, 'router'),
      bias: hasCorrectionBias(c)
        ? { name: `${p}.gate.e_score_correction_bias`, shape: [E], init: 'zeros', grad: false, part: 'correctionBias' }
        : undefined,
    },
    experts: Array.from({ length: E }, (_, e) => mlpParams(`${p}.experts.${e}`, h, c.moeIntermediateSize, 'routedExperts', { expert: e })),
    shared:
      c.nSharedExperts > 0 ? mlpParams(`${p}.shared_experts`, h, c.moeIntermediateSize * c.nSharedExperts, 'sharedExperts') : undefined,
  };
}

/** What one forward's routing decided, for load statistics and balance losses. */
export interface Routing {
  /** Router scores [N, E] (sigmoid or softmax), in the graph. */
  scores: Tensor;
  /** Chosen experts per token, [N × k] row-major. */
  indices: Int32Array;
  /** Tokens routed to each expert. */
  load: Int32Array;
}

export class Router {
  readonly weight: Tensor;
  /** e_score_correction_bias (V3), added to scores for selection only. */
  readonly bias?: Tensor;

  constructor(
    w: Weights,
    params: RouterParams,
    readonly dims: MoeDims,
  ) {
    const t = readGroup(w, params);
    this.weight = t.weight;
    this.bias = t.bias;
  }

  /** Top-k expert ids per token and their combine weights [N, k]. */
  route(x: Tensor): { indices: Int32Array; weights: Tensor; routing: Routing } {
    const { nRoutedExperts: E, numExpertsPerTok: k, scoringFunc, normTopkProb, routedScalingFactor } = this.dims;
    const logits = T.linear(T.cast(x, x.dtype === 'f64' ? 'f64' : 'f32'), this.weight);
    const scores = scoringFunc === 'sigmoid' ? T.sigmoid(logits) : T.softmax(logits, -1);
    const N = scores.shape[0]!;
    const s = T.floatData(scores);
    const bias = this.bias ? T.floatData(T.cast(this.bias, 'f32')) : undefined;
    const indices = new Int32Array(N * k);
    const load = new Int32Array(E);
    const choice = new Float64Array(E);
    for (let n = 0; n < N; n++) {
      for (let e = 0; e < E; e++) choice[e] = s[n * E + e]! + (bias ? bias[e]! : 0);
      this.maskGroups(choice);
      const picked = topIndices(choice, k);
      for (let j = 0; j < k; j++) {
        indices[n * k + j] = picked[j]!;
        load[picked[j]!]!++;
      }
    }
    let weights = T.gather(scores, 1, new Tensor(indices, [N, k], 'i32'));
    if (normTopkProb && k > 1) weights = T.div(weights, T.add(T.sum(weights, -1, true), 1e-20));
    if (routedScalingFactor !== 1) weights = T.mul(weights, routedScalingFactor);
    return { indices, weights, routing: { scores, indices, load } };
  }

  /** Keeps only the best `topk_group` groups' experts eligible (others set to −∞). */
  private maskGroups(choice: Float64Array): void {
    const { nGroup: G, topkGroup, topkMethod, nRoutedExperts: E } = this.dims;
    if (topkMethod === 'greedy' || G <= 1 || topkGroup >= G) return;
    const per = E / G;
    const groupScore = new Float64Array(G);
    for (let g = 0; g < G; g++) {
      const members = choice.subarray(g * per, (g + 1) * per);
      // V3 (noaux_tc) rates a group by its two best experts; V2's group_limited_greedy by its best.
      if (topkMethod === 'noaux_tc') {
        const [a, b] = topIndices(members, Math.min(2, per));
        groupScore[g] = members[a!]! + (b === undefined ? 0 : members[b]!);
      } else {
        groupScore[g] = members[topIndices(members, 1)[0]!]!;
      }
    }
    const keep = new Set(topIndices(groupScore, topkGroup));
    for (let g = 0; g < G; g++) if (!keep.has(g)) choice.fill(-Infinity, g * per, (g + 1) * per);
  }
}

/** Indices of the k largest values, largest first (ties: lower index first). */
function topIndices(v: ArrayLike<number>, k: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < v.length; i++) {
    let pos = out.length;
    while (pos > 0 && v[out[pos - 1]!]! < v[i]!) pos--;
    if (pos < k) {
      out.splice(pos, 0, i);
      if (out.length > k) out.pop();
    }
  }
  return out;
}

/** A MoE block's output and the routing that produced it (load statistics, balance loss). */
export interface MoeOutput {
  out: Tensor;
  routing: Routing;
}

export class DeepSeekMoE {
  readonly router: Router;
  readonly experts: Mlp[];
  readonly shared?: Mlp;

  constructor(
    w: Weights,
    params: MoeParams,
    readonly dims: MoeDims & { nSharedExperts: number },
  ) {
    this.router = new Router(w, params.router, dims);
    this.experts = params.experts.map((p) => new Mlp(w, p));
    if (params.shared) this.shared = new Mlp(w, params.shared);
  }

  forward(x: Tensor): MoeOutput {
    const shape = x.shape;
    const D = shape[shape.length - 1]!;
    const flat = T.reshape(x, [-1, D]);
    const N = flat.shape[0]!;
    const k = this.dims.numExpertsPerTok;
    const { indices, weights, routing } = this.router.route(flat);
    // Group (token, slot) pairs by expert, run each expert once on its tokens, combine weighted.
    const byExpert: number[][] = Array.from({ length: this.experts.length }, () => []);
    for (let i = 0; i < N * k; i++) byExpert[indices[i]!]!.push(i);
    const flatWeights = T.reshape(weights, [N * k, 1]);
    const parts: Tensor[] = [];
    const tokenOf: number[] = [];
    byExpert.forEach((slots, e) => {
      if (slots.length === 0) return;
      const tokens = Int32Array.from(slots, (s) => Math.floor(s / k));
      const y = this.experts[e]!.forward(T.indexSelect(flat, tokens));
      parts.push(T.mul(y, T.indexSelect(flatWeights, Int32Array.from(slots))));
      for (const t of tokens) tokenOf.push(t);
    });
    let out = T.indexAdd(Tensor.zeros([N, D], flat.dtype === 'f64' ? 'f64' : 'f32'), Int32Array.from(tokenOf), T.concat(parts, 0));
    if (this.shared) out = T.add(out, this.shared.forward(flat));
    return { out: T.reshape(out, shape), routing };
  }

  /**
   * Auxiliary-loss-free balancing (DeepSeek-V3 §2.1.2): after a step, raise the bias of
   * under-loaded experts and lower that of over-loaded ones by γ, from the step's expert loads.
   */
  updateBias(gamma: number, load: Int32Array): void {
    const bias = this.router.bias;
    if (!bias || load.length === 0) return;
    const mean = load.reduce((a, b) => a + b, 0) / load.length;
    const b = bias.data as Float32Array;
    for (let e = 0; e < load.length; e++) b[bias.offset + e] += gamma * Math.sign(mean - load[e]!);
  }
}
