/**
 * The generation API the CLI and library users call: `Generator` binds a model, its tokenizer and
 * its stop tokens; `stream()` yields tokens and text deltas as an async iterator, `generate()`
 * collects them. Several prompts given together are decoded as one batch (the `BatchDecoder` loop,
 * which the HTTP server drives too).
 */
import type { ModelConfig } from '../io/config.ts';
import { BatchDecoder, type DecodingModel, type StepResult } from './batch-decoder.ts';
import type { TokenDecoder } from './detokenizer.ts';
import type { FinishReason, GenerationRequest } from './sequence.ts';
import type { SamplingParams } from './sampler.ts';
import { mtpModelFor, type SpeculativeOptions } from './speculative/mtp-model.ts';

/** Per-call options: everything of a request except the prompt. */
export interface GenerateOptions {
  maxTokens?: number;
  sampling?: SamplingParams;
  /** Stop strings (need a tokenizer). */
  stop?: readonly string[];
  /** Stop token ids instead of the model's eos ids (pass [] to ignore eos). */
  stopTokenIds?: readonly number[];
  /** Leave special tokens out of the text (default true). */
  skipSpecialTokens?: boolean;
}

/** One streamed token of prompt number `index`. */
export interface GenerationEvent {
  index: number;
  token: number;
  /** Text this token released ('' while held back, or without a tokenizer). */
  text: string;
  finishReason: FinishReason | null;
}

export interface GenerationResult {
  /** Generated ids (a final stop token included). */
  ids: number[];
  /** The output text (empty without a tokenizer). */
  text: string;
  finishReason: FinishReason;
  /** The stop token id or stop string that ended it, if any. */
  stoppedBy: number | string | null;
}

/** A tokenizer that can also encode text prompts. */
export interface TextTokenizer extends TokenDecoder {
  encode(text: string): number[];
}

export interface GeneratorOptions {
  tokenizer?: TextTokenizer;
  /** Default stop token ids (the model's eos). */
  eosTokenIds?: readonly number[];
  /** Context length; sequences end with 'length' when they reach it. */
  maxContext?: number;
  /** Decode speculatively with the model's MTP module (see BatchDecoderOptions.speculative). */
  speculative?: SpeculativeOptions;
}

/** The eos token id(s) of a config as a list. */
export function eosTokenIds(config: ModelConfig): number[] {
  const e = config.eosTokenId;
  if (e === null || e === undefined) return [];
  return typeof e === 'number' ? [e] : [...e];
}

/** Lets other work (an HTTP server's sockets) run between decode steps. */
const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/** A step's events; a sequence that failed makes the call fail, as a library call should. */
function eventsOf(r: StepResult): StepResult['events'] {
  const failed = r.finished.find((s) => s.failed);
  if (failed) throw failed.error;
  return r.events;
}

export class Generator {
  readonly tokenizer?: TextTokenizer;
  readonly eosTokenIds: readonly number[];
  readonly maxContext?: number;
  readonly speculative?: SpeculativeOptions;

  /** Throws SpeculativeUnavailableError when `speculative` asks for MTP weights the model lacks. */
  constructor(
    readonly model: DecodingModel,
    options: GeneratorOptions = {},
  ) {
    this.tokenizer = options.tokenizer;
    this.eosTokenIds = options.eosTokenIds ?? [];
    this.maxContext = options.maxContext;
    if (options.speculative) mtpModelFor(model, options.speculative);
    this.speculative = options.speculative;
  }

  /** A generator for a loaded model: eos ids and context length from its config. */
  static forModel(
    loaded: { config: ModelConfig; model: DecodingModel },
    tokenizer?: TextTokenizer,
    options: Pick<GeneratorOptions, 'speculative'> = {},
  ): Generator {
    return new Generator(loaded.model, {
      tokenizer,
      eosTokenIds: eosTokenIds(loaded.config),
      maxContext: loaded.config.maxPositionEmbeddings,
      speculative: options.speculative,
    });
  }

  /** A fresh batch decoder for this model (for callers that schedule requests themselves). */
  decoder(): BatchDecoder {
    return new BatchDecoder(this.model, { maxContext: this.maxContext, speculative: this.speculative });
  }

  /** The full request for a prompt (ids, or text when there is a tokenizer). */
  request(prompt: readonly number[] | string, options: GenerateOptions = {}): GenerationRequest {
    let ids: readonly number[];
    if (typeof prompt === 'string') {
      if (!this.tokenizer) throw new RangeError('a text prompt needs a tokenizer');
      ids = this.tokenizer.encode(prompt);
    } else {
      ids = prompt;
    }
    return {
      prompt: ids,
      maxTokens: options.maxTokens,
      sampling: options.sampling,
      stop: options.stop,
      stopTokenIds: options.stopTokenIds ?? this.eosTokenIds,
      decoder: this.tokenizer,
      skipSpecialTokens: options.skipSpecialTokens,
    };
  }

  /**
   * Streams the continuations of `prompts` (decoded together as one batch), one event per token,
   * in step order. Breaking out of the loop stops the generation.
   */
  async *stream(prompts: readonly (readonly number[] | string)[], options: GenerateOptions = {}): AsyncGenerator<GenerationEvent> {
    const decoder = this.decoder();
    const index = new Map(prompts.map((p, i) => [decoder.add(this.request(p, options)), i]));
    while (!decoder.idle) {
      for (const e of eventsOf(decoder.step()))
        yield { index: index.get(e.sequence)!, token: e.token, text: e.text, finishReason: e.finishReason };
      await yieldToEventLoop();
    }
  }

  /** Generates the continuations of `prompts` (one batch) and returns them in prompt order. */
  generate(prompts: readonly (readonly number[] | string)[], options: GenerateOptions = {}): GenerationResult[] {
    const decoder = this.decoder();
    const seqs = prompts.map((p) => decoder.add(this.request(p, options)));
    while (!decoder.idle) eventsOf(decoder.step());
    return seqs.map((s) => ({ ids: [...s.generated], text: s.text, finishReason: s.finishReason!, stoppedBy: s.stoppedBy }));
  }
}
