/**
 * Continuous batching — the one decoding loop of the project. `Generator` (CLI, chat, library)
 * steps it until idle; the server's scheduler (src/serve/engine) steps it between socket events and
 * adds what only a server needs around it (queue limits and timeouts, a handle per request, metrics).
 *
 * A sequence added with `add()` waits; each `step()`:
 * 1. drops sequences that were cancelled since the last step;
 * 2. admits waiting sequences while the batch has room (`maxBatch`), each with a fresh cache or one
 *    reused from an earlier sequence (the `prefixes` hook: the server's prefix cache);
 * 3. advances every sequence whose prompt is in its cache by one token, in a single `[B, 1]` forward
 *    (rows at different positions, each continuing from its own cache) — or, decoding speculatively,
 *    by 1 to k + 1 tokens: MTP drafts k, one `[B, k + 1]` forward verifies them (`speculative/`);
 * 4. prefills newcomers, at most `prefillChunk` prompt tokens in all per step (so a long prompt does
 *    not stall everyone's next token for long), newcomers with equal chunk lengths in one forward;
 * 5. removes finished sequences, handing their caches to the `prefixes` hook.
 *
 * What goes wrong in one sequence (its constraint throws, say) fails that sequence alone; a forward
 * that throws fails the sequences it carried. `step()` reports both in its result; it does not throw.
 */
import { Tensor, noGrad, floatData } from '../tensor/index.ts';
import type { ForwardOptions, ForwardResult, SequenceCache } from '../model/causal-lm.ts';
import { Sequence, type GenerationRequest, type TokenEvent } from './sequence.ts';
import { Speculator } from './speculative/speculator.ts';
import type { SpeculativeOptions } from './speculative/mtp-model.ts';
import type { SpeculationCounts } from './speculative/stats.ts';

/** What decoding needs of a model (a `CausalLM` fits; tests may pass a scripted fake). */
export interface DecodingModel {
  readonly vocabSize: number;
  newCache(capacity: number): SequenceCache;
  forward(ids: Tensor, opts: ForwardOptions): ForwardResult;
}

/** Caches kept from earlier sequences, for prompts that start the same way (a prefix cache). */
export interface CacheReuse {
  /** Caches holding the longest known prefix of `ids` shorter than `maxLength`, with room for `capacity`. */
  lookup(ids: readonly number[], maxLength: number, capacity: number): { length: number; cache: SequenceCache } | null;
  /** Takes over the caches of a sequence that left; they hold exactly `ids`. */
  insert(ids: readonly number[], cache: SequenceCache): void;
}

export interface BatchDecoderOptions {
  /** Most tokens (prompt + output) a sequence may hold: the model's context length. */
  maxContext?: number;
  /** Most sequences decoded together; more wait (default: no limit). */
  maxBatch?: number;
  /** Prompt tokens prefilled per step over all newcomers (default: no limit, whole prompts). */
  prefillChunk?: number;
  /** Where sequences' caches come from and go to (default: fresh caches, dropped at the end). */
  prefixes?: CacheReuse;
  /**
   * Decode speculatively (the model's MTP module drafts, one forward verifies: `speculative/`).
   * Lossless: greedy output is the same, sampled output has the same distribution. Throws
   * SpeculativeUnavailableError for a model without MTP weights.
   */
  speculative?: SpeculativeOptions;
}

/** What one step did. */
export interface StepResult {
  /** One per token produced, decoding sequences first, then those whose prefill completed. */
  events: TokenEvent[];
  /** Sequences that joined the batch in this step. */
  admitted: Sequence[];
  /** Sequences that left: finished, cancelled, or failed (`error` set); in the order they left. */
  finished: Sequence[];
  /** Sequences advanced by the batched decode forward. */
  decoded: number;
  /** Prompt tokens run through the model. */
  prefilled: number;
  /** Draft tokens proposed and accepted in this step (null when not decoding speculatively). */
  speculation: SpeculationCounts | null;
}

/** Output tokens a cache has room for up front; caches grow by doubling past it. */
const FIRST_STRETCH = 256;

export class BatchDecoder {
  private queue: Sequence[] = [];
  private batch: Sequence[] = [];
  readonly maxContext: number;
  readonly maxBatch: number;
  readonly prefillChunk: number;
  private readonly prefixes: CacheReuse | undefined;
  /** Drafts and verifies in the decode step, when speculative decoding is on. */
  readonly speculator: Speculator | null;

  constructor(
    readonly model: DecodingModel,
    options: BatchDecoderOptions = {},
  ) {
    this.maxContext = options.maxContext ?? Infinity;
    this.maxBatch = options.maxBatch ?? Infinity;
    this.prefillChunk = options.prefillChunk ?? Infinity;
    this.prefixes = options.prefixes;
    this.speculator = options.speculative ? new Speculator(model, options.speculative) : null;
    for (const [name, v] of [
      ['max batch', this.maxBatch],
      ['prefill chunk', this.prefillChunk],
    ] as const) {
      if (!(v >= 1)) throw new RangeError(`${name} must be ≥ 1, got ${v}`);
    }
  }

  /** Queues a request (or a prepared Sequence); it joins at a step with room. Throws RangeError for a bad prompt. */
  add(request: GenerationRequest | Sequence): Sequence {
    const seq = request instanceof Sequence ? request : new Sequence(request);
    this.check(seq);
    if (seq.finished || seq.cache !== null) throw new Error(`sequence ${seq.id} has already run`);
    this.queue.push(seq);
    return seq;
  }

  /** Throws RangeError when a sequence's prompt cannot run here (ids outside the vocabulary, no room in the context). */
  check(seq: Sequence): void {
    const V = this.model.vocabSize;
    for (const id of seq.prompt) {
      if (!(Number.isInteger(id) && id >= 0 && id < V))
        throw new RangeError(`prompt token id ${id} is outside the model's vocabulary (0..${V - 1})`);
    }
    if (seq.prompt.length >= this.maxContext) {
      throw new RangeError(`prompt of ${seq.prompt.length} tokens leaves no room in a context of ${this.maxContext}`);
    }
  }

  /** Sequences waiting for room in the batch, in arrival order. */
  get waiting(): readonly Sequence[] {
    return this.queue;
  }

  /** Sequences in the batch (prefilling or decoding). */
  get running(): readonly Sequence[] {
    return this.batch;
  }

  /** Sequences waiting or running. */
  get size(): number {
    return this.queue.length + this.batch.length;
  }

  get idle(): boolean {
    return this.size === 0;
  }

  /**
   * Stops a sequence (finish reason 'abort'). A waiting one leaves now and true is returned; a
   * running one leaves at the next step, without producing more tokens, and is reported there.
   */
  cancel(seq: Sequence): boolean {
    if (!seq.finished) seq.finish('abort', null);
    const at = this.queue.indexOf(seq);
    if (at < 0) return false;
    this.queue.splice(at, 1);
    return true;
  }

  /** Admits, prefills and decodes as described above; returns what happened. */
  step(): StepResult {
    const r: StepResult = { events: [], admitted: [], finished: [], decoded: 0, prefilled: 0, speculation: null };
    try {
      noGrad(() => {
        // Sequences cancelled since the last step leave first, so their slots go to newcomers now.
        this.batch = this.batch.filter((s) => !this.leave(s, r));
        this.admit(r);
        const decoding = this.batch.filter((s) => s.prefillDone);
        if (decoding.length > 0) this.decode(decoding, r);
        this.prefill(
          this.batch.filter((s) => !s.prefillDone && !s.finished),
          r,
        );
      });
    } catch (e) {
      // A bug in the loop itself: no sequence's state can be trusted, so the batch fails together.
      for (const s of this.batch) s.fail(e);
    }
    this.batch = this.batch.filter((s) => !this.leave(s, r));
    return r;
  }

  /** Moves waiting sequences into the batch while there is room, each with its caches. */
  private admit(r: StepResult): void {
    while (this.batch.length < this.maxBatch && this.queue.length > 0) {
      const s = this.queue.shift()!;
      try {
        this.start(s);
        this.batch.push(s);
        r.admitted.push(s);
      } catch (e) {
        s.fail(e);
        r.finished.push(s);
      }
    }
  }

  /** Gives a sequence its caches: reused for a known prefix, else fresh. */
  private start(s: Sequence): void {
    // Room for the prompt and a first stretch of output rather than the whole budget: caches grow,
    // and 32 sequences × a 4k-token budget would reserve gigabytes up front.
    const capacity = Math.min(s.prompt.length + Math.min(s.maxTokens, FIRST_STRETCH), this.maxContext);
    const hit = this.prefixes?.lookup(s.prompt, s.prompt.length - 1, capacity) ?? null;
    if (!hit) {
      s.cache = this.speculator ? this.speculator.newCache(capacity) : this.model.newCache(capacity);
      s.prefilled = s.reusedTokens = 0;
      return;
    }
    // A reused cache counts as far as all its layers reach (an MTP cache ends a token or more
    // before the main one); what lies past that in the others is dropped and recomputed.
    const reused = Math.min(hit.length, ...hit.cache.map((c) => c.length));
    for (const c of hit.cache) c.truncate(reused);
    s.cache = hit.cache;
    s.prefilled = s.reusedTokens = reused;
  }

  /** Removes a finished sequence (true), reporting it and handing its caches on; false while it runs. */
  private leave(s: Sequence, r: StepResult): boolean {
    if (!s.finished) return false;
    r.finished.push(s);
    this.speculator?.forget(s);
    const cache = s.cache;
    s.cache = null;
    // A failed sequence's caches may be half-written: never reuse them.
    if (cache && cache.length > 0 && !s.failed && this.prefixes) {
      const fed = cache[0]!.length;
      this.prefixes.insert([...s.prompt, ...s.generated].slice(0, fed), cache);
    }
    return true;
  }

  /** One token for each of `seqs`, from a single [B, 1] forward (or 1 to k + 1 each, speculating). */
  private decode(seqs: Sequence[], r: StepResult): void {
    const B = seqs.length;
    if (this.speculator) {
      r.speculation = this.speculator.decode(seqs, this.maxContext, (s, logits, token) => this.sample(s, logits, r, token));
      r.decoded = B;
      return;
    }
    let all: Float32Array;
    try {
      const ids = Tensor.from(
        seqs.map((s) => s.lastToken),
        [B, 1],
        'i32',
      );
      const { logits } = this.model.forward(ids, { caches: seqs.map((s) => s.cache!), logits: 'last' });
      all = floatData(logits!) as Float32Array;
    } catch (e) {
      for (const s of seqs) s.fail(e); // they shared the forward
      return;
    }
    r.decoded = B;
    const V = all.length / B;
    seqs.forEach((s, b) => this.sample(s, all.subarray(b * V, (b + 1) * V), r));
  }

  /** Runs the next chunk of each prefilling prompt (equal chunk lengths in one forward). */
  private prefill(seqs: Sequence[], r: StepResult): void {
    let budget = this.prefillChunk;
    const groups = new Map<number, Sequence[]>();
    for (const s of seqs) {
      if (budget <= 0) break;
      const n = Math.min(s.prompt.length - s.prefilled, budget);
      budget -= n;
      groups.set(n, [...(groups.get(n) ?? []), s]);
    }
    // Logits of the prompts that completed, sampled afterwards in batch order (not group order).
    const ready = new Map<Sequence, Float32Array>();
    for (const [n, group] of groups) {
      const B = group.length;
      const last = group.map((s) => s.prefilled + n === s.prompt.length);
      let all: Float32Array | null;
      try {
        const ids = new Int32Array(B * n);
        group.forEach((s, b) => ids.set(s.prompt.slice(s.prefilled, s.prefilled + n), b * n));
        const { logits, final } = this.model.forward(Tensor.from(ids, [B, n], 'i32'), {
          caches: group.map((s) => s.cache!),
          logits: last.some(Boolean) ? 'last' : 'none',
        });
        all = logits ? (floatData(logits) as Float32Array) : null;
        this.speculator?.prefilled(group, final, n);
      } catch (e) {
        for (const s of group) s.fail(e);
        continue;
      }
      r.prefilled += B * n;
      group.forEach((s, b) => {
        s.prefilled += n;
        if (last[b]) ready.set(s, all!.subarray((b * all!.length) / B, ((b + 1) * all!.length) / B));
      });
    }
    for (const s of seqs) {
      const logits = ready.get(s);
      if (logits) this.sample(s, logits, r);
    }
  }

  /**
   * The next token of one sequence (`token` when speculative verification chose it), and the event.
   * What throws here (its constraint, its sampler) fails this sequence alone: the others' tokens are
   * already computed.
   */
  private sample(s: Sequence, logits: Float32Array, r: StepResult, token?: number): void {
    try {
      const e = token === undefined ? s.sampleNext(logits) : s.take(token, logits);
      if (e === null) return; // no legal token: it ended with 'length' and leaves at the end of the step
      if (!s.finished && s.length >= this.maxContext) {
        e.text += s.close('length');
        e.finishReason = s.finishReason;
      }
      r.events.push(e);
    } catch (e) {
      s.fail(e);
    }
  }
}
