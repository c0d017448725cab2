/**
 * Opening a checkpoint folder for generation: the model, its tokenizer (the folder's tokenizer.json,
 * or one named explicitly) and a Generator with the config's eos ids and context length. Shared by
 * the CLI commands and the HTTP server.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { loadModel, type LoadedModel, type LoadOptions } from '../model/load.ts';
import { loadTokenizer } from '../tokenizer/load.ts';
import type { Tokenizer } from '../tokenizer/tokenizer.ts';
import { Generator, eosTokenIds, type GeneratorOptions } from './generate.ts';
import { generationDefaults, type GenerationDefaults } from './defaults.ts';

export interface GenerationSetup extends LoadedModel {
  generator: Generator;
  /** Absent when the folder has no tokenizer.json and none was given. */
  tokenizer?: Tokenizer;
  /** Where the tokenizer came from. */
  tokenizerPath?: string;
  /** The tokenizer's chat template ('' when it has none). */
  chatTemplate: string;
  /** The checkpoint's sampling defaults (generation_config.json, else R1's for an R1-style template). */
  defaults: GenerationDefaults;
}

/** A tokenizer's chat template as one text ('' when it has none). */
export function chatTemplateText(tokenizer: Tokenizer | undefined): string {
  const t = tokenizer?.config.chat_template;
  return typeof t === 'string' ? t : Array.isArray(t) ? t.map((x) => x.template).join('\n') : '';
}

/**
 * Loads `modelDir` for generation. `tokenizerPath` (a tokenizer.json or a folder holding one) wins
 * over the model folder's own; `load` passes options such as `quantize` to the model loader;
 * `generation.speculative` makes the generator decode speculatively (SpeculativeUnavailableError for
 * a checkpoint without MTP weights). Stop ids:
 * the config's eos ids, generation_config.json's, and the tokenizer's eos token.
 * Throws the io layer's user-facing errors for a missing or malformed folder, and TokenizerError for
 * a bad tokenizer.
 */
export function loadForGeneration(
  modelDir: string,
  tokenizerPath?: string,
  load: LoadOptions = {},
  generation: Pick<GeneratorOptions, 'speculative'> = {},
): GenerationSetup {
  const loaded = loadModel(modelDir, load);
  const path = tokenizerPath ?? (existsSync(join(modelDir, 'tokenizer.json')) ? modelDir : undefined);
  const tokenizer = path === undefined ? undefined : loadTokenizer(path);
  const chatTemplate = chatTemplateText(tokenizer);
  const defaults = generationDefaults(modelDir, chatTemplate);
  const eos = new Set([...eosTokenIds(loaded.config), ...defaults.eosTokenIds]);
  const eosToken = tokenizer?.specialTokens.eos_token;
  const eosId = eosToken === undefined ? undefined : tokenizer!.tokenToId(eosToken);
  if (eosId !== undefined) eos.add(eosId);
  const vocab = loaded.model.vocabSize;
  const stops = [...eos].filter((id) => id >= 0 && id < vocab);
  const generator = new Generator(loaded.model, {
    tokenizer,
    eosTokenIds: stops,
    maxContext: loaded.config.maxPositionEmbeddings,
    speculative: generation.speculative,
  });
  return { ...loaded, generator, tokenizer, tokenizerPath: path, chatTemplate, defaults };
}
