/**
 * Choosing the next token: the sampling parameters of a request and the `Sampler` that applies them
 * (logit processors, then greedy argmax or a draw from a seeded generator, so a run is reproducible
 * from its seed).
 */
import { Rng } from '../tensor/index.ts';
import * as P from './logits-processors.ts';

export interface SamplingParams {
  /** Softmax temperature; 0 picks the most likely token (greedy). Default 1. */
  temperature?: number;
  /** Keep only the k most likely tokens (0: off). */
  topK?: number;
  /** Nucleus: keep the most likely tokens up to this total probability (1: off). */
  topP?: number;
  /** Keep tokens at least this fraction as likely as the best one (0: off). */
  minP?: number;
  /** CTRL/HF repetition penalty over prompt and output tokens (1: off). */
  repetitionPenalty?: number;
  /** OpenAI frequency penalty over output tokens (0: off). */
  frequencyPenalty?: number;
  /** OpenAI presence penalty over output tokens (0: off). */
  presencePenalty?: number;
  /** Seed of the draw; the same seed, prompt and model give the same tokens. Default: random. */
  seed?: number;
}

/** Throws a RangeError naming the first parameter out of its range. */
export function validateSampling(p: SamplingParams): void {
  const bad = (name: string, v: number, range: string) => new RangeError(`${name} must be ${range}, got ${v}`);
  if (p.temperature !== undefined && !(p.temperature >= 0 && Number.isFinite(p.temperature)))
    throw bad('temperature', p.temperature, '≥ 0');
  if (p.topK !== undefined && !(Number.isInteger(p.topK) && p.topK >= 0)) throw bad('top-k', p.topK, 'an integer ≥ 0');
  if (p.topP !== undefined && !(p.topP > 0 && p.topP <= 1)) throw bad('top-p', p.topP, 'in (0, 1]');
  if (p.minP !== undefined && !(p.minP >= 0 && p.minP <= 1)) throw bad('min-p', p.minP, 'in [0, 1]');
  if (p.repetitionPenalty !== undefined && !(p.repetitionPenalty > 0 && Number.isFinite(p.repetitionPenalty))) {
    throw bad('repetition penalty', p.repetitionPenalty, '> 0');
  }
  for (const [name, v] of [
    ['frequency penalty', p.frequencyPenalty],
    ['presence penalty', p.presencePenalty],
  ] as const) {
    if (v !== undefined && !Number.isFinite(v)) throw bad(name, v, 'a finite number');
  }
}

/** What the penalties look at: the prompt and the tokens generated so far. */
export interface TokenHistory {
  prompt: readonly number[];
  generated: readonly number[];
}

/** Applies the penalties, temperature and filters of `p` to `logits` (pure; temperature 0 skips the temperature). */
export function processLogits(logits: Float32Array, p: SamplingParams, history: TokenHistory): Float32Array {
  let x = logits;
  const rep = p.repetitionPenalty ?? 1;
  if (rep !== 1) x = P.repetitionPenalty(x, [...history.prompt, ...history.generated], rep);
  const freq = p.frequencyPenalty ?? 0;
  const pres = p.presencePenalty ?? 0;
  if (freq !== 0 || pres !== 0) {
    const counts = new Map<number, number>();
    for (const id of history.generated) counts.set(id, (counts.get(id) ?? 0) + 1);
    x = P.frequencyPresencePenalty(x, counts, freq, pres);
  }
  const t = p.temperature ?? 1;
  if (t === 0) return x; // greedy: the filters cannot change the argmax
  if (t !== 1) x = P.temperature(x, t);
  if ((p.topK ?? 0) > 0) x = P.topK(x, p.topK!);
  if ((p.topP ?? 1) < 1) x = P.topP(x, p.topP!);
  if ((p.minP ?? 0) > 0) x = P.minP(x, p.minP!);
  return x;
}

/** Draws an index from probabilities (summing to 1) with one uniform number. */
export function sampleCategorical(probs: ArrayLike<number>, rng: Rng): number {
  const u = rng.uniform();
  let cum = 0;
  let last = -1;
  for (let i = 0; i < probs.length; i++) {
    const p = probs[i]!;
    if (p <= 0) continue;
    cum += p;
    last = i;
    if (u < cum) return i;
  }
  return last; // rounding left u just above the total: the last possible token
}

function randomSeed(): number {
  return Math.floor(Math.random() * 0x100000000);
}

/** One sequence's token chooser: its parameters and its own seeded generator. */
export class Sampler {
  readonly params: Readonly<SamplingParams>;
  readonly seed: number;
  private readonly rng: Rng;
  /** The parameters without top-p, when top-p is the last filter of the chain (else null). */
  private readonly beforeTopP: Readonly<SamplingParams> | null;

  /**
   * `vocabLimit`: ids from here on have no token (released checkpoints pad their output rows beyond
   * the tokenizer's vocabulary: Qwen2 151936 vs ~151665) and are never chosen.
   */
  constructor(
    params: SamplingParams = {},
    readonly vocabLimit?: number,
  ) {
    validateSampling(params);
    this.params = { ...params };
    this.seed = params.seed ?? randomSeed();
    this.rng = new Rng(this.seed);
    const topP = params.topP ?? 1;
    this.beforeTopP = topP < 1 && (params.minP ?? 0) <= 0 ? { ...params, topP: 1 } : null;
  }

  /** Whether this sampler always takes the most likely token. */
  get greedy(): boolean {
    return (this.params.temperature ?? 1) === 0;
  }

  /** The next token for next-token `logits` [V] given what came before. */
  sample(logits: Float32Array, history: TokenHistory): number {
    if (this.greedy) return P.argmax(processLogits(this.valid(logits), this.params, history));
    return sampleCategorical(this.distribution(logits, history), this.rng);
  }

  /**
   * softmax of the processed logits (not greedy). With top-p the last filter, the chain stops before
   * it and `topPSoftmax` does both at once: the same numbers, half the exponentials.
   */
  private distribution(logits: Float32Array, history: TokenHistory): Float64Array {
    if (this.beforeTopP) return P.topPSoftmax(processLogits(this.valid(logits), this.beforeTopP, history), this.params.topP!);
    return P.softmax(processLogits(this.valid(logits), this.params, history));
  }

  /**
   * The distribution `sample` draws from, over the valid ids (after penalties, temperature and
   * filters); greedy is the point mass on the argmax. Speculative decoding compares the target's and
   * the draft's distributions.
   */
  probabilities(logits: Float32Array, history: TokenHistory): Float64Array {
    if (!this.greedy) return this.distribution(logits, history);
    const x = processLogits(this.valid(logits), this.params, history);
    const onehot = new Float64Array(x.length);
    onehot[P.argmax(x)] = 1;
    return onehot;
  }

  /** A draw from `probs` (summing to 1) with this sampler's generator. */
  draw(probs: ArrayLike<number>): number {
    return sampleCategorical(probs, this.rng);
  }

  /** A uniform number in [0, 1) from this sampler's generator (speculative acceptance). */
  uniform(): number {
    return this.rng.uniform();
  }

  /** The logits of ids that have a token (see `vocabLimit`). */
  private valid(logits: Float32Array): Float32Array {
    const limit = this.vocabLimit;
    return limit !== undefined && limit > 0 && limit < logits.length ? logits.subarray(0, limit) : logits;
  }
}
