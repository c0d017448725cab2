/**
 * One generation request in flight: its prompt, its cache, the tokens chosen so far, and the rules
 * that end it (stop tokens, stop strings, max tokens, a constraint that completes). The batch decoder
 * owns the model calls; a Sequence only decides, token by token, what the output is and when it is
 * finished.
 */
import type { SequenceCache } from '../model/causal-lm.ts';
import { Sampler, type SamplingParams, type TokenHistory } from './sampler.ts';
import { chooseToken, type TokenConstraint } from './constraint.ts';
import { logprobOf, type TokenLogprob } from './token-logprob.ts';
import { StopStringMatcher } from './stop-strings.ts';
import { IncrementalDetokenizer, type TokenDecoder } from './detokenizer.ts';

/**
 * Why a sequence ended: a stop token or stop string ('stop'), its token budget or the model's context
 * ('length'), or the caller cancelling it ('abort').
 */
export type FinishReason = 'stop' | 'length' | 'abort';

export interface GenerationRequest {
  /** Prompt token ids (at least one). */
  prompt: readonly number[];
  /** Most tokens to generate (default 256). */
  maxTokens?: number;
  sampling?: SamplingParams;
  /** Token ids that end the output (not part of its text): typically the model's eos ids. */
  stopTokenIds?: readonly number[];
  /** Strings that end the output; the match and what follows are cut from the text. Needs a decoder. */
  stop?: readonly string[];
  /** Turns ids into text for streaming and stop strings; without one, only ids are produced. */
  decoder?: TokenDecoder;
  /** Leave special tokens out of the text (default true). */
  skipSpecialTokens?: boolean;
  /** Caller's tag, carried through to events (e.g. the request id of an HTTP call). */
  tag?: unknown;
  /** Restricts which tokens may come next (JSON, tool-call syntax, thinking budget); owned by this sequence. */
  constraint?: TokenConstraint;
  /** Report log-probabilities on each event, with this many alternatives per token (0–20). */
  logprobs?: number;
  /** Added to the logits of these ids before sampling (OpenAI's logit_bias). */
  logitBias?: ReadonlyMap<number, number>;
}

/** One step's news for one sequence: the token it produced and the text that token released. */
export interface TokenEvent {
  sequence: Sequence;
  /** The new token id. */
  token: number;
  /** Text released by this step (may be '' while a character or a possible stop string is incomplete). */
  text: string;
  /** Set on the last event of a sequence. */
  finishReason: FinishReason | null;
  /** When the request asked for log-probabilities. */
  logprob?: TokenLogprob;
}

export const DEFAULT_MAX_TOKENS = 256;

let nextId = 0;

export class Sequence {
  readonly id = nextId++;
  readonly prompt: readonly number[];
  readonly maxTokens: number;
  readonly sampler: Sampler;
  readonly tag: unknown;
  /** Generated ids, including a final stop token if one ended the output. */
  readonly generated: number[] = [];
  /** The text released so far. */
  text = '';
  finishReason: FinishReason | null = null;
  /** What stopped it: the stop token id or the matched stop string. */
  stoppedBy: number | string | null = null;
  /** Its per-layer caches, created when it joins the batch. */
  cache: SequenceCache | null = null;
  /** Prompt tokens already in its cache (chunked prefill; a reused prefix counts from the start). */
  prefilled = 0;
  /** Prompt tokens whose cache was reused from an earlier sequence rather than computed. */
  reusedTokens = 0;
  /** Draft tokens proposed for it by speculative decoding, and how many of them the model accepted. */
  draftedTokens = 0;
  acceptedDraftTokens = 0;
  /** Why it failed, when its own step threw (its finish reason is then 'abort'). */
  error: unknown = undefined;
  private readonly constraint: TokenConstraint | undefined;
  private readonly logprobs: number | undefined;
  private readonly logitBias: ReadonlyMap<number, number> | undefined;
  private readonly stopIds: ReadonlySet<number>;
  private readonly detok: IncrementalDetokenizer | null;
  private readonly stops: StopStringMatcher;

  constructor(req: GenerationRequest) {
    if (req.prompt.length === 0) throw new RangeError('a prompt needs at least one token');
    const maxTokens = req.maxTokens ?? DEFAULT_MAX_TOKENS;
    if (!(Number.isInteger(maxTokens) && maxTokens >= 1)) throw new RangeError(`max tokens must be an integer ≥ 1, got ${maxTokens}`);
    if ((req.stop?.length ?? 0) > 0 && !req.decoder) throw new RangeError('stop strings need a tokenizer to decode the output');
    this.prompt = [...req.prompt];
    this.maxTokens = maxTokens;
    this.sampler = new Sampler(req.sampling, req.decoder?.vocabSize);
    this.tag = req.tag;
    this.stopIds = new Set(req.stopTokenIds ?? []);
    this.detok = req.decoder ? new IncrementalDetokenizer(req.decoder, { skipSpecialTokens: req.skipSpecialTokens }) : null;
    this.stops = new StopStringMatcher(req.stop ?? []);
    this.constraint = req.constraint;
    this.logprobs = req.logprobs;
    this.logitBias = req.logitBias;
  }

  get finished(): boolean {
    return this.finishReason !== null;
  }

  /** Tokens the cache holds or will hold: prompt and output. */
  get length(): number {
    return this.prompt.length + this.generated.length;
  }

  /** The token to feed the model next (the last one produced). */
  get lastToken(): number {
    return this.generated[this.generated.length - 1] ?? this.prompt[this.prompt.length - 1]!;
  }

  get failed(): boolean {
    return this.error !== undefined;
  }

  /** Whether all of its prompt is in its cache (it decodes now rather than prefills). */
  get prefillDone(): boolean {
    return this.prefilled >= this.prompt.length;
  }

  /**
   * Chooses the next token from next-token logits [V] (bias, constraint, sampler) and records it.
   * null when the constraint allows no token at all: the sequence ends with 'length' (its structure
   * no longer fits the budget) without an illegal token.
   */
  sampleNext(logits: Float32Array): TokenEvent | null {
    const token = chooseToken(this.sampler, this.biased(logits), this.history, this.constraint, this.maxTokens - this.generated.length);
    if (token === null) {
      this.finish('length', null);
      return null;
    }
    return this.take(token, logits);
  }

  /** What penalties look at: the prompt and the output so far. */
  get history(): TokenHistory {
    return { prompt: this.prompt, generated: this.generated };
  }

  /** Whether a constraint restricts its next tokens (such a sequence is not decoded speculatively). */
  get constrained(): boolean {
    return this.constraint !== undefined && !this.constraint.done;
  }

  /** Next-token logits with the request's logit bias added (the same array when it has none). */
  biased(logits: Float32Array): Float32Array {
    if (!this.logitBias || this.logitBias.size === 0) return logits;
    const x = logits.slice();
    for (const [id, bias] of this.logitBias) if (id < x.length) x[id]! += bias;
    return x;
  }

  /**
   * Records `token`, chosen from next-token `logits` [V] (by `sampleNext`, or by speculative
   * verification), with its log-probability, the stop rules and the constraint.
   */
  take(token: number, logits: Float32Array): TokenEvent {
    const logprob = this.logprobs === undefined ? undefined : logprobOf(logits, token, this.logprobs);
    const ev = this.accept(token);
    const c = this.constraint;
    if (c && !c.done) {
      c.accept(token);
      // A finished structure ends the output, even when it filled the budget exactly.
      if (c.done && !this.finished) ev.text += this.close('stop');
      else if (c.done && this.finishReason === 'length') this.finish('stop', null);
      ev.finishReason = this.finishReason;
    }
    return logprob === undefined ? ev : { ...ev, logprob };
  }

  /** Records a chosen token, applying the stop rules. */
  accept(token: number): TokenEvent {
    if (this.finished) throw new Error(`sequence ${this.id} is already finished`);
    this.generated.push(token);
    let text = '';
    if (this.stopIds.has(token)) {
      this.finish('stop', token);
      text = this.drain();
    } else {
      const delta = this.detok ? this.detok.push(token) : '';
      const r = this.stops.push(delta);
      text = r.text;
      if (r.stopped !== undefined) this.finish('stop', r.stopped);
      else if (this.generated.length >= this.maxTokens) {
        this.finish('length', null);
        text += this.drain();
      }
    }
    this.text += text;
    return { sequence: this, token, text, finishReason: this.finishReason };
  }

  /** Ends the sequence because its own step threw (a broken constraint, a failed forward). */
  fail(error: unknown): void {
    this.error = error ?? new Error('generation failed');
    if (!this.finished) this.finish('abort', null);
  }

  /** Ends the sequence now (a caller cancelled it, or the context is full). */
  finish(reason: FinishReason, by: number | string | null): void {
    this.finishReason = reason;
    this.stoppedBy = by;
  }

  /**
   * Ends the sequence from outside its stop rules (context full), releasing the text it still held;
   * returns that text (also added to `text`).
   */
  close(reason: FinishReason): string {
    if (this.finished) return '';
    this.finish(reason, null);
    const tail = this.drain();
    this.text += tail;
    return tail;
  }

  /** At the end: text still held by the detokenizer and the stop matcher (it matched nothing). */
  private drain(): string {
    const tail = this.detok ? this.detok.flush() : '';
    const r = this.stops.push(tail);
    if (r.stopped === undefined) return r.text + this.stops.flush();
    if (this.finishReason === 'length') this.finish('stop', r.stopped); // the tail completed a stop string
    return r.text;
  }
}
