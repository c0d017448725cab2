/**
 * A model folder opened for serving: the checkpoint, its tokenizer, and what the server needs to know
 * about them — its name, stop tokens, context length, whether it reasons in `<think>` blocks, how it
 * writes tool calls, and whether it can fill in the middle.
 */
import { existsSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import type { CausalLM } from '../model/causal-lm.ts';
import type { ModelConfig } from '../io/config.ts';
import {
  fallbackTemplateFor,
  isReasoningTemplate,
  loadForGeneration,
  type SamplingParams,
  type SpeculativeOptions,
} from '../generate/index.ts';
import type { QuantScheme } from '../kernels/types.ts';
import type { Tokenizer } from '../tokenizer/index.ts';
import { checkModelsFit } from '../model/load.ts';
import { UserFacingError } from '../io/errors.ts';
import { tokenBytes, type TokenBytes } from './constrain/token-bytes.ts';
import { toolDialectFor, type ToolDialect } from './chat/tool-dialects.ts';
import { fimFormatFor, type FimFormat } from './completions/fim.ts';

export interface ServedModel {
  /** The name clients pass as `model`. */
  id: string;
  dir: string;
  config: ModelConfig;
  model: CausalLM;
  tokenizer: Tokenizer;
  /** Token ids that end an output. */
  eosIds: number[];
  /**
   * Sampling for fields a request leaves out: the checkpoint's generation_config.json, else R1's
   * recommendation for an R1-style template, else none (temperature 1, as OpenAI's API).
   */
  sampling: SamplingParams;
  /** Most tokens (prompt + output) of one sequence. */
  maxContext: number;
  /** The chat template reasons in `<think>` blocks (DeepSeek-R1 and its distills). */
  reasoning: boolean;
  /** The chat template renders `tools` itself (otherwise the server describes them in the system prompt). */
  templateRendersTools: boolean;
  /** The template used when tokenizer_config.json has none (undefined: the tokenizer's own). */
  fallbackTemplate?: string;
  toolDialect: ToolDialect;
  fim: FimFormat | null;
  /** Unix time the server loaded it (the `created` of /v1/models). */
  created: number;
  /** Speculative decoding with its MTP module, when turned on (`--speculative mtp`). */
  speculative?: SpeculativeOptions;
  /** Bytes of every token id, for constrained decoding (built on first use). */
  tokenBytes(): TokenBytes;
}

/** Re-exported: the server's fallback layout is the generation layer's. */
export { FALLBACK_CHAT_TEMPLATE } from '../generate/chat-layout.ts';

export interface ServedModelOptions {
  /** Name to serve it under (default: the folder's name). */
  name?: string;
  /** Cap on the context length (default: the model's max_position_embeddings). */
  maxContext?: number;
  /** Quantise the weights while loading. */
  quantize?: QuantScheme;
  /** Decode speculatively (SpeculativeUnavailableError when the checkpoint has no MTP weights). */
  speculative?: SpeculativeOptions;
}

/** Opens a model folder (config.json, safetensors, tokenizer.json, tokenizer_config.json). */
export function loadServedModel(dir: string, options: ServedModelOptions = {}): ServedModel {
  const path = resolve(dir);
  if (!existsSync(join(path, 'tokenizer.json'))) {
    throw new UserFacingError(
      `${path}: no tokenizer.json — the server needs the model's tokenizer (tokenizer.json and tokenizer_config.json) in its folder`,
    );
  }
  // The config's and the tokenizer's eos ids come from the generation layer's loader.
  // generation_config.json's eos ids and sampling defaults too.
  const {
    config,
    model,
    tokenizer: loadedTokenizer,
    generator,
    chatTemplate: template,
    defaults,
  } = loadForGeneration(path, undefined, { quantize: options.quantize }, { speculative: options.speculative });
  const tokenizer = loadedTokenizer!;
  let bytes: TokenBytes | null = null;
  const vocab = model.vocabSize;
  return {
    id: options.name ?? basename(path),
    dir: path,
    config,
    model,
    tokenizer,
    eosIds: [...generator.eosTokenIds],
    sampling: defaults.sampling,
    maxContext: Math.min(config.maxPositionEmbeddings, options.maxContext ?? Infinity),
    reasoning: isReasoningTemplate(template),
    templateRendersTools: /\btools\b/.test(template),
    fallbackTemplate: fallbackTemplateFor(template),
    toolDialect: toolDialectFor(tokenizer),
    fim: fimFormatFor(tokenizer),
    created: Math.floor(Date.now() / 1000),
    speculative: options.speculative,
    tokenBytes: () => (bytes ??= tokenBytes(tokenizer, vocab)),
  };
}

/** One model folder of a server that serves several, with the name to serve it under. */
export interface ServedModelSpec {
  dir: string;
  /** Default: the folder's name. */
  name?: string;
}

/**
 * Opens the model folders of one server, in order (the first is its default): the names must differ,
 * and the memory check counts all of them together before any is read.
 */
export function loadServedModels(specs: readonly ServedModelSpec[], options: Omit<ServedModelOptions, 'name'> = {}): ServedModel[] {
  const named = specs.map((s) => ({ dir: resolve(s.dir), name: s.name ?? basename(resolve(s.dir)) }));
  const seen = new Map<string, string>();
  for (const { dir, name } of named) {
    const other = seen.get(name);
    if (other !== undefined)
      throw new UserFacingError(`two models would be served as '${name}' (${other} and ${dir}): name one with --model <name>=<dir>`);
    seen.set(name, dir);
  }
  if (named.length > 1) checkModelsFit(named.map(({ dir }) => ({ dir, opts: { quantize: options.quantize } })));
  return named.map(({ dir, name }) => loadServedModel(dir, { ...options, name }));
}
