/**
 * The model config a run trains: the run's HF config.json with the vocabulary tied to the tokenizer.
 * `vocab_size` may be left out (it becomes the tokenizer's size); when given it must cover every
 * token id. Missing bos/eos ids are filled from the tokenizer so generation stops where training
 * put document ends.
 */
import { parseConfig, type ModelConfig } from '../io/config.ts';
import type { Tokenizer } from '../tokenizer/index.ts';
import type { JsonObject } from './config/reader.ts';
import { TrainError } from './errors.ts';

export interface ResolvedModel {
  /** HF config.json content, completed. */
  json: JsonObject;
  config: ModelConfig;
}

export function resolveModelConfig(model: JsonObject, tokenizer: Tokenizer, eosId: number, source: string): ResolvedModel {
  const json: JsonObject = structuredClone(model);
  const need = tokenizer.vocabSize;
  if (json.vocab_size === undefined || json.vocab_size === null) json.vocab_size = need;
  else if (typeof json.vocab_size === 'number' && json.vocab_size < need) {
    throw new TrainError(
      `${source}: vocab_size ${json.vocab_size} is smaller than the tokenizer's ${need} tokens (leave vocab_size out to take the tokenizer's)`,
    );
  }
  if (json.eos_token_id === undefined) json.eos_token_id = eosId;
  if (json.bos_token_id === undefined) {
    const bos = tokenizer.specialTokens.bos_token;
    const id = bos === undefined ? undefined : tokenizer.tokenToId(bos);
    if (id !== undefined) json.bos_token_id = id;
  }
  return { json, config: parseConfig(json, source) };
}
