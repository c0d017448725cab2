/**
 * The serving scheduler: the one decoding loop of `src/generate` (`BatchDecoder`: admission, chunked
 * prefill, the batched decode step, sampling with constraints, stop rules, removal) driven for many
 * HTTP clients at once. What only a server needs is added around that loop, not as a second one:
 * - a bounded queue (QueueFullError) and a queue timeout (OverloadedError);
 * - a `Generation` handle per request: an async iterator of its events, cancellation, timings;
 * - the prefix cache, plugged into the loop's cache hook;
 * - metrics hooks, and stepping between socket events (the event loop runs after every step).
 * Constrained decoding, logprobs and logit bias are fields of the request, applied by the loop.
 */
import {
  BatchDecoder,
  Sequence,
  type FinishReason,
  type GenerationRequest,
  type TokenDecoder,
  type DecodingModel,
  type SpeculativeOptions,
  type SpeculationCounts,
} from '../../generate/index.ts';
import { Generation, type EngineEvent } from './generation.ts';
import { PrefixCache, type PrefixCacheOptions } from './prefix-cache.ts';

/** One request: a generation request less what the server supplies (its tokenizer), with a budget. */
export interface EngineRequest extends Omit<GenerationRequest, 'decoder' | 'tag' | 'maxTokens'> {
  /** Most tokens to generate (≥ 1). */
  maxTokens: number;
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
  /** The clock of the queue timeout, ms (default performance.now; tests pass their own). */
  now?: () => number;
  /** Decode speculatively with the model's MTP module (throws SpeculativeUnavailableError without one). */
  speculative?: SpeculativeOptions;
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
  /** Draft tokens proposed and accepted in the step, when decoding speculatively. */
  speculation: SpeculationCounts | null;
}

interface Handle {
  gen: Generation;
  /** When it was submitted, on the scheduler's clock (queue timeout). */
  queuedAt: number;
  /** When its last token came out (inter-token latency). */
  lastTokenAt?: number;
}

const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

export class Scheduler {
  readonly maxQueue: number;
  readonly queueTimeoutMs: number;
  readonly prefixCache: PrefixCache;
  /** Called after every step (metrics). */
  onStep: ((info: StepInfo) => void) | null = null;
  /** Called with the time between two tokens of one sequence, ms (metrics). */
  onTokenInterval: ((ms: number) => void) | null = null;
  /** Called when a generation ends, however it ends (metrics). */
  onFinish: ((g: Generation) => void) | null = null;
  private readonly engine: BatchDecoder;
  private readonly handles = new Map<Sequence, Handle>();
  private readonly sequences = new Map<Generation, Sequence>();
  private nextId = 0;
  private looping = false;
  private closed = false;
  private readonly decoder: TokenDecoder;
  private readonly now: () => number;

  constructor(
    readonly model: DecodingModel,
    options: SchedulerOptions,
  ) {
    this.maxQueue = options.maxQueue ?? 256;
    this.queueTimeoutMs = options.queueTimeoutMs ?? 120_000;
    this.prefixCache = new PrefixCache(options.prefixCache);
    this.decoder = options.decoder;
    this.now = options.now ?? (() => performance.now());
    this.engine = new BatchDecoder(model, {
      maxContext: options.maxContext,
      maxBatch: options.maxBatch ?? 32,
      prefillChunk: options.prefillChunk ?? 512,
      prefixes: this.prefixCache,
      speculative: options.speculative,
    });
  }

  get maxBatch(): number {
    return this.engine.maxBatch;
  }

  /** Every speculative verification so far (null when not decoding speculatively). */
  get speculation(): SpeculationCounts | null {
    return this.engine.speculator?.total ?? null;
  }

  get prefillChunk(): number {
    return this.engine.prefillChunk;
  }

  get maxContext(): number {
    return this.engine.maxContext;
  }

  /** Requests waiting for a slot. */
  get queueDepth(): number {
    return this.engine.waiting.length;
  }

  /** Sequences in the running batch (prefilling or decoding). */
  get runningCount(): number {
    return this.engine.running.length;
  }

  /**
   * Queues a request. Throws QueueFullError when the queue is full, OverloadedError after close(),
   * RangeError for a request that cannot run (empty prompt, ids out of the vocabulary, no room in
   * the context, bad sampling parameters).
   */
  submit(req: EngineRequest): Generation {
    if (this.closed) throw new OverloadedError('the server is shutting down');
    const seq = new Sequence({ ...req, decoder: this.decoder });
    this.engine.check(seq);
    // Requests that will take a free slot at the next step are not queued behind the batch.
    const queued = this.engine.waiting.length - Math.max(0, this.maxBatch - this.engine.running.length);
    if (queued >= this.maxQueue) throw new QueueFullError(queued);
    const gen = new Generation(this.nextId++, req.prompt.length, (g) => this.cancel(g));
    this.engine.add(seq);
    this.handles.set(seq, { gen, queuedAt: this.now() });
    this.sequences.set(gen, seq);
    this.kick();
    return gen;
  }

  /** Stops a generation: dropped from the queue now, or from the batch at the next step. */
  cancel(gen: Generation): void {
    const seq = this.sequences.get(gen);
    if (seq && this.engine.cancel(seq)) this.end(seq, (g) => g.end('abort'));
  }

  /** Refuses new requests and aborts all current ones. */
  close(): void {
    this.closed = true;
    for (const seq of [...this.engine.waiting, ...this.engine.running]) {
      if (this.engine.cancel(seq)) this.end(seq, (g) => g.end('abort'));
    }
  }

  /** Forgets a sequence, ending its generation with `how` and reporting it to the metrics. */
  private end(seq: Sequence, how: (g: Generation) => void): void {
    const h = this.handles.get(seq);
    if (!h) return;
    this.handles.delete(seq);
    this.sequences.delete(h.gen);
    how(h.gen);
    this.onFinish?.(h.gen);
  }

  private kick(): void {
    if (this.looping) return;
    this.looping = true;
    void this.loop();
  }

  private async loop(): Promise<void> {
    try {
      while (!this.engine.idle) {
        try {
          this.expire();
          this.step();
        } catch (e) {
          // A bug here must not take the process (and every other client) down: fail the batch.
          console.error('deepseek-ts serve: scheduler error:', e);
          for (const seq of this.engine.running) {
            this.engine.cancel(seq);
            this.end(seq, (g) => g.fail(e));
          }
        }
        await yieldToEventLoop();
      }
    } finally {
      this.looping = false;
    }
  }

  /** Fails requests that have waited longer than the queue timeout. */
  private expire(): void {
    const now = this.now();
    const late = this.engine.waiting.filter((s) => now - this.handles.get(s)!.queuedAt > this.queueTimeoutMs);
    for (const seq of late) {
      this.engine.cancel(seq);
      const error = new OverloadedError(`the server is overloaded: no slot freed up within ${Math.round(this.queueTimeoutMs / 1000)} s`);
      this.end(seq, (g) => g.fail(error));
    }
  }

  /** One step of the loop; its results go to the generations' handles. */
  private step(): void {
    const t0 = performance.now();
    const r = this.engine.step();
    const now = performance.now();
    for (const seq of r.admitted) {
      const gen = this.handles.get(seq)?.gen;
      if (!gen) continue;
      gen.cachedTokens = seq.reusedTokens;
      gen.startedAt = t0;
    }
    for (const e of r.events) {
      const h = this.handles.get(e.sequence);
      if (!h) continue;
      if (h.lastTokenAt !== undefined) this.onTokenInterval?.(now - h.lastTokenAt);
      h.lastTokenAt = now;
      if (this.engine.speculator) {
        h.gen.speculation = { drafted: e.sequence.draftedTokens, accepted: e.sequence.acceptedDraftTokens };
      }
      const event: EngineEvent = { token: e.token, text: e.text, logprob: e.logprob, finishReason: e.finishReason };
      h.gen.push(event);
    }
    for (const seq of r.finished) {
      if (seq.failed) {
        console.error(`deepseek-ts serve: generation ${this.handles.get(seq)?.gen.id} failed:`, seq.error);
        this.end(seq, (g) => g.fail(seq.error));
      } else {
        // Ended without a final token event (cancelled; no legal token left): close the stream.
        this.end(seq, (g) => g.end(seq.finishReason ?? 'abort'));
      }
    }
    this.onStep?.({ decoded: r.decoded, prefilled: r.prefilled, ms: now - t0, speculation: r.speculation });
  }
}
