/**
 * Continuous batching: a set of live sequences decoded together, one token each per `step()`.
 *
 * A sequence added with `add()` waits until the next step, where its prompt is prefilled into its own
 * cache (one forward of the whole prompt; prompts of different lengths are not padded together).
 * Every sequence that was already running then advances by one token in a single `model.forward`
 * over a [B, 1] batch, each row continuing from its own cache length. Finished sequences drop out
 * at the end of the step, so requests can join and leave between any two steps — what an HTTP
 * server needs — while the CLI simply steps until the decoder is idle.
 */
import { Tensor, noGrad, floatData } from '../tensor/index.ts';
import type { ForwardOptions, ForwardResult, SequenceCache } from '../model/causal-lm.ts';
import { Sequence, type GenerationRequest, type TokenEvent } from './sequence.ts';

/** What decoding needs of a model (a `CausalLM` fits; tests may pass a scripted fake). */
export interface DecodingModel {
  readonly vocabSize: number;
  newCache(capacity: number): SequenceCache;
  forward(ids: Tensor, opts: ForwardOptions): ForwardResult;
}

export interface BatchDecoderOptions {
  /** Most tokens (prompt + output) a sequence may hold: the model's context length. */
  maxContext?: number;
}

export class BatchDecoder {
  private waiting: Sequence[] = [];
  private running: Sequence[] = [];
  readonly maxContext: number;

  constructor(readonly model: DecodingModel, options: BatchDecoderOptions = {}) {
    this.maxContext = options.maxContext ?? Infinity;
  }

  /** Queues a request (or a prepared Sequence); it starts at the next step. Throws RangeError for a bad prompt. */
  add(request: GenerationRequest | Sequence): Sequence {
    const seq = request instanceof Sequence ? request : new Sequence(request);
    const V = this.model.vocabSize;
    for (const id of seq.prompt) {
      if (!(Number.isInteger(id) && id >= 0 && id < V)) throw new RangeError(`prompt token id ${id} is outside the model's vocabulary (0..${V - 1})`);
    }
    if (seq.prompt.length >= this.maxContext) {
      throw new RangeError(`prompt of ${seq.prompt.length} tokens leaves no room in a context of ${this.maxContext}`);
    }
    this.waiting.push(seq);
    return seq;
  }

  /** Sequences waiting or running. */
  get size(): number {
    return this.waiting.length + this.running.length;
  }

  get idle(): boolean {
    return this.size === 0;
  }

  /** Stops a sequence; it leaves the batch at the next step without producing more tokens. */
  cancel(seq: Sequence): void {
    if (!seq.finished) seq.finish('abort', null);
    this.waiting = this.waiting.filter((s) => s !== seq);
  }

  /** Prefills newcomers, advances every running sequence by one token; returns this step's events. */
  step(): TokenEvent[] {
    return noGrad(() => {
      const events: TokenEvent[] = [];
      const decoding = this.running.filter((s) => !s.finished);
      const joining = this.waiting;
      this.waiting = [];
      if (decoding.length > 0) this.decode(decoding, events);
      for (const s of joining) this.prefill(s, events);
      this.running = [...decoding, ...joining].filter((s) => !s.finished);
      return events;
    });
  }

  /** Runs the prompt through the model into a fresh cache and picks the first token. */
  private prefill(s: Sequence, events: TokenEvent[]): void {
    const capacity = Math.min(s.prompt.length + s.maxTokens, this.maxContext);
    s.cache = this.model.newCache(capacity);
    const ids = Tensor.from(s.prompt, [1, s.prompt.length], 'i32');
    const { logits } = this.model.forward(ids, { caches: [s.cache], logits: 'last' });
    events.push(this.after(s, s.sampleNext(floatData(logits!) as Float32Array)));
  }

  /** One token for each of `seqs`, from a single [B, 1] forward. */
  private decode(seqs: Sequence[], events: TokenEvent[]): void {
    const B = seqs.length;
    const ids = Tensor.from(seqs.map((s) => s.lastToken), [B, 1], 'i32');
    const { logits } = this.model.forward(ids, { caches: seqs.map((s) => s.cache!), logits: 'last' });
    const all = floatData(logits!) as Float32Array;
    const V = all.length / B;
    seqs.forEach((s, b) => events.push(this.after(s, s.sampleNext(all.subarray(b * V, (b + 1) * V)))));
  }

  /** Ends a sequence whose context is full. */
  private after(s: Sequence, e: TokenEvent): TokenEvent {
    if (!s.finished && s.length >= this.maxContext) {
      const tail = s.close('length');
      return { ...e, text: e.text + tail, finishReason: s.finishReason };
    }
    return e;
  }
}
