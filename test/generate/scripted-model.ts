/**
 * A stand-in for a language model whose next token is a function of the tokens it has seen, for
 * tests of the generation plumbing (stop rules, streaming, chat history) with exact, chosen outputs.
 * It keeps the real cache contract: one cache per sequence, each row continuing from its own length.
 */
import { Tensor } from '../../src/tensor/index.ts';
import { KVCache } from '../../src/model/cache.ts';
import type { ForwardOptions, ForwardResult, SequenceCache } from '../../src/model/causal-lm.ts';
import type { DecodingModel } from '../../src/generate/index.ts';

export class ScriptedModel implements DecodingModel {
  private readonly seen = new WeakMap<object, number[]>();
  /** Forward calls made, with their batch size and length. */
  readonly calls: { B: number; T: number }[] = [];

  constructor(
    readonly vocabSize: number,
    private readonly next: (context: readonly number[]) => number,
  ) {}

  newCache(capacity: number): SequenceCache {
    const c = new KVCache(1, 1, 1, capacity);
    this.seen.set(c, []);
    return [c];
  }

  forward(ids: Tensor, opts: ForwardOptions): ForwardResult {
    const [B, T] = ids.shape as [number, number];
    this.calls.push({ B, T });
    if (!opts.caches || opts.caches.length !== B) throw new Error('the scripted model decodes through caches only');
    const V = this.vocabSize;
    // A gap of 200 nats: the scripted token is chosen whatever the sampling settings.
    const logits = new Float32Array(B * V).fill(-100);
    for (let b = 0; b < B; b++) {
      const cache = opts.caches[b]![0] as KVCache;
      const ctx = this.seen.get(cache)!;
      for (let t = 0; t < T; t++) ctx.push(Number(ids.data[b * T + t]));
      cache.append(new Float32Array(T), new Float32Array(T), T);
      logits[b * V + this.next(ctx)] = 100;
    }
    return { logits: new Tensor(logits, [B, 1, V], 'f32'), final: Tensor.zeros([B, T, 1]), routings: [] };
  }
}

/** A model that, after the last occurrence of `marker`, emits `reply` token by token (then repeats its last token). */
export function replyAfter(vocabSize: number, marker: number, reply: readonly number[]): ScriptedModel {
  return new ScriptedModel(vocabSize, (ctx) => {
    const at = ctx.lastIndexOf(marker);
    const k = ctx.length - at - 1;
    return reply[Math.min(k, reply.length - 1)]!;
  });
}
