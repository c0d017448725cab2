/**
 * A stand-in for a model with an MTP module whose distributions are known exactly: the target's next
 * token depends on the last two tokens of its context (a second-order Markov chain over a small
 * vocabulary, logits from a seeded table), and the draft's guess on the token it is given and the
 * state it is handed. Both keep the real cache contract — the context IS the cache (token ids stored
 * as keys), so a rollback that kept a wrong row would change the target's distribution.
 */
import { Rng, Tensor } from '../../../src/tensor/index.ts';
import { KVCache } from '../../../src/model/cache.ts';
import type { ForwardOptions, ForwardResult, MtpStepResult, SequenceCache } from '../../../src/model/causal-lm.ts';
import type { MtpModel } from '../../../src/generate/index.ts';

/** Token ids held by a cache of this model (its first `length` keys). */
function tokensOf(c: KVCache): number[] {
  const k = c.view().k;
  return Array.from({ length: c.length }, (_, i) => Number(k.data[i]));
}

export class MarkovMtpModel implements MtpModel {
  readonly mtpDepth = 1;
  readonly layers = [null];
  /** Target logits for context (a, b): row a·V + b. */
  readonly target: Float32Array;
  /** Draft logits for (state token s, next token t): row s·V + t. */
  readonly draft: Float32Array;

  constructor(
    readonly vocabSize: number,
    seed = 3,
  ) {
    const rng = new Rng(seed);
    const V = vocabSize;
    this.target = Float32Array.from({ length: V * V * V }, () => rng.normal());
    this.draft = Float32Array.from({ length: V * V * V }, () => rng.normal());
  }

  /** Target logits after a context ending in a, b. */
  logitsAfter(a: number, b: number): Float32Array {
    const V = this.vocabSize;
    return this.target.subarray((a * V + b) * V, (a * V + b + 1) * V);
  }

  newCache(capacity: number): SequenceCache {
    return [new KVCache(1, 1, 1, capacity)];
  }

  newMtpCache(capacity: number): SequenceCache {
    return [new KVCache(1, 1, 1, capacity)];
  }

  forward(ids: Tensor, opts: ForwardOptions): ForwardResult {
    const [B, T] = ids.shape as [number, number];
    const V = this.vocabSize;
    const mode = opts.logits ?? 'all';
    const rows = mode === 'all' ? T : mode === 'last' ? 1 : 0;
    const logits = new Float32Array(B * rows * V);
    const final = new Float32Array(B * T);
    for (let b = 0; b < B; b++) {
      const cache = opts.caches![b]![0] as KVCache;
      const fed = Float32Array.from({ length: T }, (_, t) => Number(ids.data[b * T + t]));
      cache.append(fed, new Float32Array(T), T);
      const ctx = tokensOf(cache);
      for (let t = 0; t < T; t++) {
        const at = ctx.length - T + t;
        const a = at >= 1 ? ctx[at - 1]! : 0;
        final[b * T + t] = ctx[at]!; // the "state": the token itself
        const r = mode === 'all' ? t : t - (T - 1);
        if (r >= 0 && rows > 0) logits.set(this.logitsAfter(a, ctx[at]!), (b * rows + r) * V);
      }
    }
    return {
      logits: rows > 0 ? new Tensor(logits, [B, rows, V], 'f32') : undefined,
      final: new Tensor(final, [B, T, 1], 'f32'),
      routings: [],
    };
  }

  mtpStep(_depth: number, previous: Tensor, nextIds: Tensor, caches: SequenceCache[], at?: readonly number[]): MtpStepResult {
    const [B, T] = nextIds.shape as [number, number];
    const V = this.vocabSize;
    const logits = new Float32Array(B * V);
    const normed = new Float32Array(B * T);
    for (let b = 0; b < B; b++) {
      (caches[b]![0] as KVCache).append(new Float32Array(T), new Float32Array(T), T);
      for (let t = 0; t < T; t++) normed[b * T + t] = Number(nextIds.data[b * T + t]);
      const p = at?.[b] ?? T - 1;
      const s = Math.round(Number(previous.data[b * T + p])) % V;
      const n = Number(nextIds.data[b * T + p]);
      logits.set(this.draft.subarray((s * V + n) * V, (s * V + n + 1) * V), b * V);
    }
    const states = new Tensor(normed, [B, T, 1], 'f32');
    return { hidden: states, normed: states, logits: new Tensor(logits, [B, 1, V], 'f32') };
  }
}
