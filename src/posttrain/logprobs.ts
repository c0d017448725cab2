/**
 * Per-token log-probabilities of given tokens — what RL on language models differentiates (TRL's
 * `selective_log_softmax`): log p(token | prefix) at a sampling temperature τ, i.e. from logits / τ.
 * One fused op over rows of logits: it never materialises the [N, V] log-softmax, and its backward
 * is (onehot − softmax) / τ times the incoming gradient. The entropy of each row's distribution (at τ)
 * comes from the same pass, for the logs.
 */
import * as T from '../tensor/index.ts';
import { Tensor } from '../tensor/index.ts';

export interface TokenLogProbs {
  /** log p(target) per row [N] (differentiable w.r.t. the logits). */
  logps: Tensor;
  /** Entropy of each row's distribution at the temperature, in nats (not differentiated). */
  entropy: Float64Array;
}

/** log softmax(logits[i] / τ)[targets[i]] for logits [N, V]. */
export function tokenLogProbs(logits: Tensor, targets: Int32Array, temperature = 1): TokenLogProbs {
  if (!(temperature > 0)) throw new RangeError(`temperature must be > 0, got ${temperature}`);
  const V = logits.shape[logits.rank - 1]!;
  const N = logits.size / V;
  if (targets.length !== N) throw new Error(`tokenLogProbs: ${N} rows but ${targets.length} targets`);
  const x = T.floatData(logits);
  const inv = 1 / temperature;
  const lse = new Float64Array(N);
  const entropy = new Float64Array(N);
  const out = new Float32Array(N);
  for (let i = 0; i < N; i++) {
    const t = targets[i]!;
    if (t < 0 || t >= V) throw new Error(`tokenLogProbs: target ${t} outside the vocabulary of ${V}`);
    const o = i * V;
    let m = -Infinity;
    for (let j = 0; j < V; j++) m = Math.max(m, x[o + j]! * inv);
    let s = 0;
    let sz = 0;
    for (let j = 0; j < V; j++) {
      const z = x[o + j]! * inv;
      const e = Math.exp(z - m);
      s += e;
      sz += e * z;
    }
    lse[i] = m + Math.log(s);
    entropy[i] = lse[i]! - sz / s; // H = lse − E[z]
    out[i] = x[o + t]! * inv - lse[i]!;
  }
  const y = new Tensor(out, [N], 'f32');
  const result = T.record(y, 'tokenLogProbs', [logits], (g) => {
    const gd = T.floatData(g);
    const dx = new Float32Array(N * V);
    for (let i = 0; i < N; i++) {
      const gi = gd[i]! * inv;
      if (gi === 0) continue;
      const o = i * V;
      for (let j = 0; j < V; j++) dx[o + j] = -gi * Math.exp(x[o + j]! * inv - lse[i]!);
      dx[o + targets[i]!]! += gi;
    }
    return [new Tensor(dx, logits.shape, 'f32')];
  });
  return { logps: result, entropy };
}
