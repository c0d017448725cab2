/**
 * The files a trained tokenizer is saved as: a `tokenizer.json` in the schema of the released
 * DeepSeek-V3 / HF tokenizers files (so `tokenizers.Tokenizer.from_file` and transformers'
 * `PreTrainedTokenizerFast` load it), and a minimal `tokenizer_config.json`.
 */
import type { AddedTokenJson, ComponentJson, TokenizerConfigJson, TokenizerJson } from './schema.ts';

/** DeepSeek-V3's pre-tokenizer patterns (Split, Isolated, in order): digits in groups of ≤ 3, CJK/kana runs, then words. */
export const DEEPSEEK_V3_PATTERNS: readonly string[] = [
  '\\p{N}{1,3}',
  '[\u4e00-\u9fa5\u3040-\u309f\u30a0-\u30ff]+',
  '[!"#$%&\'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+|[^\r\n\\p{L}\\p{P}\\p{S}]?[\\p{L}\\p{M}]+| ?[\\p{P}\\p{S}]+[\r\n]*|\\s*[\r\n]+|\\s+(?!\\S)|\\s+',
];

/** The pre_tokenizer node for Split patterns followed by a plain ByteLevel stage. */
export function preTokenizerJson(patterns: readonly string[]): ComponentJson {
  return {
    type: 'Sequence',
    pretokenizers: [
      ...patterns.map((p) => ({ type: 'Split', pattern: { Regex: p }, behavior: 'Isolated', invert: false })),
      { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false },
    ],
  };
}

export interface TokenizerFilesInput {
  patterns: readonly string[];
  specialTokens: readonly string[];
  /** Token → id, special tokens included. */
  vocab: Record<string, number>;
  merges: [string, string][];
  bosToken?: string;
  eosToken?: string;
  padToken?: string;
  addBosToken: boolean;
  chatTemplate?: string;
  modelMaxLength?: number;
}

/** Builds tokenizer.json and tokenizer_config.json for a trained vocabulary. */
export function tokenizerFiles(input: TokenizerFilesInput): { tokenizerJson: TokenizerJson; tokenizerConfig: TokenizerConfigJson } {
  const added: AddedTokenJson[] = input.specialTokens.map((content) => ({
    id: input.vocab[content]!,
    content,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: false,
    special: true,
  }));
  const byteLevel = { type: 'ByteLevel', add_prefix_space: true, trim_offsets: false, use_regex: true };
  const bosId = input.bosToken === undefined ? undefined : input.vocab[input.bosToken];
  // With add_bos_token the HF post-processor itself adds BOS, so the file alone encodes the same way.
  const postProcessor: ComponentJson =
    input.addBosToken && input.bosToken !== undefined && bosId !== undefined
      ? {
          type: 'Sequence',
          processors: [
            byteLevel,
            {
              type: 'TemplateProcessing',
              single: [{ SpecialToken: { id: input.bosToken, type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
              pair: [
                { SpecialToken: { id: input.bosToken, type_id: 0 } },
                { Sequence: { id: 'A', type_id: 0 } },
                { SpecialToken: { id: input.bosToken, type_id: 1 } },
                { Sequence: { id: 'B', type_id: 1 } },
              ],
              special_tokens: { [input.bosToken]: { id: input.bosToken, ids: [bosId], tokens: [input.bosToken] } },
            },
          ],
        }
      : byteLevel;
  const tokenizerJson: TokenizerJson = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: added,
    normalizer: null,
    pre_tokenizer: preTokenizerJson(input.patterns),
    post_processor: postProcessor,
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab: input.vocab,
      merges: input.merges,
    },
  };
  const addedTokensDecoder: Record<string, unknown> = {};
  for (const t of added) {
    addedTokensDecoder[String(t.id)] = {
      content: t.content,
      lstrip: false,
      normalized: false,
      rstrip: false,
      single_word: false,
      special: true,
    };
  }
  const tokenizerConfig: TokenizerConfigJson = {
    tokenizer_class: 'PreTrainedTokenizerFast',
    add_bos_token: input.addBosToken,
    add_eos_token: false,
    bos_token: input.bosToken ?? null,
    eos_token: input.eosToken ?? null,
    pad_token: input.padToken ?? null,
    unk_token: null,
    clean_up_tokenization_spaces: false,
    model_max_length: input.modelMaxLength ?? 131072,
    added_tokens_decoder: addedTokensDecoder,
  };
  if (input.chatTemplate !== undefined) tokenizerConfig.chat_template = input.chatTemplate;
  return { tokenizerJson, tokenizerConfig };
}
