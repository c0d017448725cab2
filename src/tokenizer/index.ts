/**
 * The tokenizer layer: byte-level BPE compatible with HF `tokenizer.json` files (DeepSeek-V3/R1,
 * Qwen2, Llama-3), chat templates, and a trainer for new vocabularies. Knows nothing of tensors.
 */
export { Tokenizer, type EncodeOptions, type DecodeOptions, type TokenizerOptions } from './tokenizer.ts';
export { loadTokenizer, resolveTokenizerFiles, readJsonFile } from './load.ts';
export { TokenizerError } from './errors.ts';
export type { ChatMessage, ChatTemplateOptions } from './chat-template.ts';
export type { AddedToken } from './added-tokens.ts';
export type { SpecialTokensMap } from './config.ts';
export type { TokenizerJson, TokenizerConfigJson, AddedTokenJson, BpeModelJson, ComponentJson } from './schema.ts';
export { translateOniguruma, compileOniguruma, type TranslatedRegex } from './regex.ts';
export { BYTE_TO_CHAR, textToAlphabet } from './bytes.ts';
export { trainBpe, saveTrainedTokenizer, trainedTokenizer, type TrainBpeOptions, type TrainedBpe, type TrainProgress } from './train.ts';
export { DEEPSEEK_V3_PATTERNS } from './train-json.ts';
export { readCorpus, corpusFiles } from './corpus.ts';
