/**
 * The serving scheduler: continuous batching for many HTTP clients at once.
 *
 * Requests wait in a bounded queue and join the running batch between steps. Each step:
 * 1. every running sequence that is decoding advances by one token in a single `[B, 1]` forward
 *    (rows at different positions, each with its own cache);
 * 2. newcomers are prefilled, in chunks of at most `prefillChunk` tokens per step so a long prompt
 *    cannot stall everyone's next token for long, newcomers with equal chunk lengths batched together;
 *    a prompt that starts like an earlier one begins from the prefix cache's copy of its caches;
 * 3. the event loop runs (sockets, new requests, disconnects) before the next step.
 *
 * It builds on `src/generate`: a `Sequence` applies stop tokens, stop strings, the token budget and
 * streaming detokenization; its `Sampler` draws tokens. What `BatchDecoder` does not offer and a
 * server needs lives here: the queue and its limits, cancellation, chunked prefill, the prefix cache,
 * logprobs, logit bias and grammar constraints (constrain/).
 */
import { Tensor, floatData, noGrad } from '../../tensor/index.ts';
import { Sequence, processors, type FinishReason, type SamplingParams, type TokenDecoder, type DecodingModel } from '../../generate/index.ts';
import type { SequenceCache } from '../../model/causal-lm.ts';
import type { TokenConstraint } from '../constrain/constraint.ts';
import { Generation, type EngineEvent, type TokenLogprob } from './generation.ts';
import { PrefixCache, type PrefixCacheOptions } from './prefix-cache.ts';

export interface EngineRequest {
  /** Prompt ids (at least one). */
  prompt: readonly number[];
  /** Most tokens to generate (≥ 1). */
  maxTokens: number;
  sampling?: SamplingParams;
  /** Ids that end the output (the model's eos). */
  stopTokenIds?: readonly number[];
  /** Stop strings: the match and what follows are cut. */
  stop?: readonly string[];
  /** Leave special tokens out of the text (default true). */
  skipSpecialTokens?: boolean;
  /** Restricts which tokens may come next (JSON, tool-call syntax, thinking budget). */
  constraint?: TokenConstraint;
  /** Report log-probabilities, with this many alternatives per token (0–20). */
  logprobs?: number;
  /** Added to the logits of these ids before sampling (OpenAI's logit_bias). */
  logitBias?: ReadonlyMap<number, number>;
}

export interface SchedulerOptions {
  /** Most sequences decoded together (default 32). */
  maxBatch?: number;
  /** Most requests waiting for a slot; more are refused with QueueFullError (default 256). */
  maxQueue?: number;
  /** Prompt tokens prefilled per step, over all newcomers (default 512). */
  prefillChunk?: number;
  /** Context length: prompt + output of one sequence (default the model's own limit: none). */
  maxContext?: number;
  /** A request still waiting after this long fails with OverloadedError (default 120 s). */
  queueTimeoutMs?: number;
  prefixCache?: PrefixCacheOptions;
  /** Decodes output text (stop strings, streaming). */
  decoder: TokenDecoder;
}

/** The waiting queue is full. */
export class QueueFullError extends Error {
  constructor(size: number) {
    super(`the server is busy: ${size} requests are already waiting`);
    this.name = 'QueueFullError';
  }
}

/** A request waited too long for a slot, or the scheduler is shutting down. */
export class OverloadedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OverloadedError';
  }
}

/** What one step did, for metrics. */
export interface StepInfo {
  decoded: number;
  prefilled: number;
  ms: number;
}

interface Slot {
  gen: Generation;
  req: EngineRequest;
  seq: Sequence | null;
  /** Prompt tokens already in the cache. */
  prefilled: number;
  cancelled: boolean;
  /** Its own step failed (a bug in its constraint, say): it ends alone, its caches are dropped. */
  failed?: boolean;
  /** When its last token came out (inter-token latency). */
  lastTokenAt?: number;
}

const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

export class Scheduler {
  readonly maxBatch: number;
  readonly maxQueue: number;
  readonly prefillChunk: number;
  readonly maxContext: number;
  readonly queueTimeoutMs: number;
  readonly prefixCache: PrefixCache;
  /** Called after every step (metrics). */
  onStep: ((info: StepInfo) => void) | null = null;
  /** Called with the time between two tokens of one sequence, ms (metrics). */
  onTokenInterval: ((ms: number) => void) | null = null;
  /** Called when a generation ends, however it ends (metrics). */
  onFinish: ((g: Generation) => void) | null = null;
  private waiting: Slot[] = [];
  private running: Slot[] = [];
  private nextId = 0;
  private looping = false;
  private closed = false;
  private readonly decoder: TokenDecoder;

  constructor(readonly model: DecodingModel, options: SchedulerOptions) {
    this.maxBatch = options.maxBatch ?? 32;
    this.maxQueue = options.maxQueue ?? 256;
    this.prefillChunk = options.prefillChunk ?? 512;
    this.maxContext = options.maxContext ?? Infinity;
    this.queueTimeoutMs = options.queueTimeoutMs ?? 120_000;
    this.prefixCache = new PrefixCache(options.prefixCache);
    this.decoder = options.decoder;
  }

  /** Requests waiting for a slot. */
  get queueDepth(): number {
    return this.waiting.length;
  }

  /** Sequences in the running batch (prefilling or decoding). */
  get runningCount(): number {
    return this.running.length;
  }

  /**
   * Queues a request. Throws QueueFullError when the queue is full, OverloadedError after close(),
   * RangeError for a prompt that cannot run (empty, ids out of the vocabulary, no room in the context).
   */
  submit(req: EngineRequest): Generation {
    if (this.closed) throw new OverloadedError('the server is shutting down');
    const V = this.model.vocabSize;
    if (req.prompt.length === 0) throw new RangeError('the prompt is empty');
    for (const id of req.prompt) if (!(Number.isInteger(id) && id >= 0 && id < V)) throw new RangeError(`token id ${id} is outside the vocabulary (0..${V - 1})`);
    if (req.prompt.length >= this.maxContext) throw new RangeError(`the prompt has ${req.prompt.length} tokens; the context holds ${this.maxContext}`);
    if (this.waiting.length >= this.maxQueue) throw new QueueFullError(this.waiting.length);
    const gen = new Generation(this.nextId++, req.prompt.length, (g) => this.cancel(g));
    this.waiting.push({ gen, req, seq: null, prefilled: 0, cancelled: false });
    this.kick();
    return gen;
  }

  /** Stops a generation: dropped from the queue now, or from the batch before the next step. */
  cancel(gen: Generation): void {
    const w = this.waiting.findIndex((s) => s.gen === gen);
    if (w >= 0) {
      this.waiting.splice(w, 1);
      this.finishSlotless(gen, 'abort');
      return;
    }
    const slot = this.running.find((s) => s.gen === gen);
    if (slot) slot.cancelled = true;
  }

  /** Refuses new requests and aborts all current ones. */
  close(): void {
    this.closed = true;
    for (const s of this.waiting) this.finishSlotless(s.gen, 'abort');
    this.waiting = [];
    for (const s of this.running) s.cancelled = true;
  }

  private finishSlotless(gen: Generation, reason: FinishReason): void {
    gen.end(reason);
    this.onFinish?.(gen);
  }

  private kick(): void {
    if (this.looping) return;
    this.looping = true;
    void this.loop();
  }

  private async loop(): Promise<void> {
    try {
      while (this.waiting.length > 0 || this.running.length > 0) {
        try {
          this.expire();
          this.admit();
          if (this.running.length > 0) this.step();
        } catch (e) {
          // A bug here must not take the process (and every other client) down: fail the batch.
          console.error('deepseek-ts serve: scheduler error:', e);
          this.failRunning(e);
        }
        await yieldToEventLoop();
      }
    } finally {
      this.looping = false;
    }
  }

  private failRunning(e: unknown): void {
    for (const s of this.running) {
      s.gen.fail(e);
      this.onFinish?.(s.gen);
    }
    this.running = [];
  }

  /** Fails requests that have waited longer than the queue timeout. */
  private expire(): void {
    const now = performance.now();
    const late = this.waiting.filter((s) => now - s.gen.queuedAt > this.queueTimeoutMs);
    if (late.length === 0) return;
    this.waiting = this.waiting.filter((s) => !late.includes(s));
    for (const s of late) {
      s.gen.fail(new OverloadedError(`the server is overloaded: no slot freed up within ${Math.round(this.queueTimeoutMs / 1000)} s`));
      this.onFinish?.(s.gen);
    }
  }

  /** Moves waiting requests into the batch while there is room, starting them from the prefix cache. */
  private admit(): void {
    while (this.running.length < this.maxBatch && this.waiting.length > 0) {
      const slot = this.waiting.shift()!;
      try {
        this.start(slot);
        this.running.push(slot);
      } catch (e) {
        slot.gen.fail(e);
        this.onFinish?.(slot.gen);
      }
    }
  }

  /** Creates the slot's sequence and caches (from the prefix cache when it can). */
  private start(slot: Slot): void {
    const { req, gen } = slot;
    slot.seq = new Sequence({
      prompt: req.prompt,
      maxTokens: req.maxTokens,
      sampling: req.sampling,
      stopTokenIds: req.stopTokenIds,
      stop: req.stop,
      decoder: this.decoder,
      skipSpecialTokens: req.skipSpecialTokens,
    });
    // Caches grow by doubling, so start with room for the prompt and a first stretch of output
    // rather than the whole budget (32 sequences × a 4k-token budget would reserve gigabytes).
    const capacity = Math.min(req.prompt.length + Math.min(req.maxTokens, 256), this.maxContext);
    const hit = this.prefixCache.lookup(req.prompt, req.prompt.length - 1, capacity);
    slot.seq.cache = hit ? hit.cache : this.model.newCache(capacity);
    slot.prefilled = hit ? hit.length : 0;
    gen.cachedTokens = slot.prefilled;
    gen.startedAt = performance.now();
  }

  private step(): void {
    const t0 = performance.now();
    this.running = this.running.filter((s) => (s.cancelled ? (this.retire(s, 'abort'), false) : true));
    const decoding = this.running.filter((s) => s.prefilled === s.req.prompt.length);
    const prefilling = this.running.filter((s) => s.prefilled < s.req.prompt.length);
    let prefilled = 0;
    try {
      noGrad(() => {
        if (decoding.length > 0) this.decode(decoding);
        prefilled = this.prefill(prefilling);
      });
    } catch (e) {
      // A model failure ends the requests in this batch, not the server.
      console.error('deepseek-ts serve: a decoding step failed:', e);
      this.failRunning(e);
      return;
    }
    this.running = this.running.filter((s) => (s.seq!.finished ? (this.retire(s, s.seq!.finishReason!), false) : true));
    this.onStep?.({ decoded: decoding.length, prefilled, ms: performance.now() - t0 });
  }

  /** One token for each decoding sequence, from one [B, 1] forward. */
  private decode(slots: Slot[]): void {
    const B = slots.length;
    const ids = Tensor.from(slots.map((s) => s.seq!.lastToken), [B, 1], 'i32');
    const { logits } = this.model.forward(ids, { caches: slots.map((s) => s.seq!.cache!), logits: 'last' });
    const all = floatData(logits!) as Float32Array;
    const V = all.length / B;
    slots.forEach((s, b) => this.emitOrFail(s, all.subarray(b * V, (b + 1) * V)));
  }

  /** Runs the next chunk of each prefilling prompt (equal chunk lengths in one forward); returns tokens run. */
  private prefill(slots: Slot[]): number {
    let budget = this.prefillChunk;
    const work = new Map<number, Slot[]>();
    for (const s of slots) {
      if (budget <= 0) break;
      const n = Math.min(s.req.prompt.length - s.prefilled, budget);
      budget -= n;
      work.set(n, [...(work.get(n) ?? []), s]);
    }
    let total = 0;
    for (const [n, group] of work) {
      const B = group.length;
      const ids = new Int32Array(B * n);
      group.forEach((s, b) => ids.set(s.req.prompt.slice(s.prefilled, s.prefilled + n), b * n));
      const last = group.map((s) => s.prefilled + n === s.req.prompt.length);
      const { logits } = this.model.forward(Tensor.from(ids, [B, n], 'i32'), {
        caches: group.map((s) => s.seq!.cache!),
        logits: last.some(Boolean) ? 'last' : 'none',
      });
      const all = logits ? (floatData(logits) as Float32Array) : null;
      group.forEach((s, b) => {
        s.prefilled += n;
        if (last[b]) this.emitOrFail(s, all!.subarray((b * all!.length) / B, ((b + 1) * all!.length) / B));
      });
      total += B * n;
    }
    return total;
  }

  /**
   * `emit`, failing only this sequence when it throws: what goes wrong in one request's sampling or
   * grammar must not end the other requests of the batch, whose tokens are already computed.
   */
  private emitOrFail(s: Slot, logits: Float32Array): void {
    try {
      this.emit(s, logits);
    } catch (e) {
      console.error(`deepseek-ts serve: generation ${s.gen.id} failed:`, e);
      s.failed = true;
      s.gen.fail(e);
      if (!s.seq!.finished) s.seq!.finish('abort', null);
    }
  }

  /** Chooses the next token of a sequence from its logits and sends the event. */
  private emit(s: Slot, logits: Float32Array): void {
    const seq = s.seq!;
    const { req } = s;
    let x = logits;
    if (req.logitBias && req.logitBias.size > 0) {
      x = logits.slice();
      for (const [id, bias] of req.logitBias) if (id < x.length) x[id]! += bias;
    }
    const token = this.choose(s, x);
    if (token === null) {
      // The constraint cannot be completed within the tokens left: the output ran out of room.
      seq.finish('length', null);
      return;
    }
    const logprob = req.logprobs === undefined ? undefined : logprobOf(logits, token, req.logprobs);
    const ev = seq.accept(token);
    let text = ev.text;
    const c = req.constraint;
    if (c && !c.done) {
      c.accept(token);
      // A finished structure ends the output, even when it filled the budget exactly.
      if (c.done && !seq.finished) text += seq.close('stop');
      else if (c.done && seq.finishReason === 'length') seq.finish('stop', null);
    }
    if (!seq.finished && seq.length >= this.maxContext) text += seq.close('length');
    const now = performance.now();
    if (s.lastTokenAt !== undefined) this.onTokenInterval?.(now - s.lastTokenAt);
    s.lastTokenAt = now;
    const event: EngineEvent = { token, text, logprob, finishReason: seq.finishReason };
    s.gen.push(event);
  }

  /**
   * The sampler's pick, within the constraint: forced tokens first, else sample, masking only if
   * needed. null when the constraint allows no token at all (its structure no longer fits the budget).
   */
  private choose(s: Slot, logits: Float32Array): number | null {
    const seq = s.seq!;
    const c = s.req.constraint;
    const history = { prompt: seq.prompt, generated: seq.generated };
    if (!c || c.done) return seq.sampler.sample(logits, history);
    const budget = seq.maxTokens - seq.generated.length;
    const forced = c.forced(budget);
    if (forced !== null) return forced;
    const first = seq.sampler.sample(logits, history);
    if (!c.filters || c.allows(first, budget)) return first;
    const masked = logits.slice();
    let any = false;
    for (let id = 0; id < masked.length; id++) {
      if (c.allows(id, budget)) any = true;
      else masked[id] = -Infinity;
    }
    if (!any) return null;
    const t = seq.sampler.sample(masked, history);
    // Filters such as top-k can mask every allowed token: fall back to the most likely allowed one.
    return c.allows(t, budget) ? t : processors.argmax(masked);
  }

  /** Ends a sequence's time in the batch; its caches go to the prefix cache. */
  private retire(s: Slot, reason: FinishReason): void {
    const seq = s.seq!;
    if (!seq.finished) seq.finish(reason, null);
    if (!s.gen.done) s.gen.end(reason);
    this.onFinish?.(s.gen);
    const cache: SequenceCache | null = seq.cache;
    seq.cache = null;
    if (cache && cache.length > 0 && !s.failed) {
      const fed = cache[0]!.length;
      this.prefixCache.insert([...seq.prompt, ...seq.generated].slice(0, fed), cache);
    }
  }
}

/** log p(token) and the `top` most likely tokens, from raw logits. */
function logprobOf(logits: Float32Array, token: number, top: number): TokenLogprob {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) if (logits[i]! > max) max = logits[i]!;
  let sum = 0;
  for (let i = 0; i < logits.length; i++) sum += Math.exp(logits[i]! - max);
  const lse = max + Math.log(sum);
  const best: { id: number; logprob: number }[] = [];
  if (top > 0) {
    for (let i = 0; i < logits.length; i++) {
      const v = logits[i]!;
      if (best.length < top || v > best[best.length - 1]!.logprob) {
        best.push({ id: i, logprob: v });
        best.sort((a, b) => b.logprob - a.logprob);
        if (best.length > top) best.pop();
      }
    }
    for (const b of best) b.logprob -= lse;
  }
  return { logprob: logits[token]! - lse, top: best };
}
