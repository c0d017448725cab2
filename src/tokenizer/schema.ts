/**
 * The parts of HF `tokenizer.json` this layer reads and writes (the file format of the `tokenizers`
 * library, version "1.0"). Fields are typed loosely where the format allows several shapes; the
 * builders validate what they use and throw TokenizerError on anything malformed.
 */

/** An entry of `added_tokens`. */
export interface AddedTokenJson {
  id: number;
  content: string;
  single_word?: boolean;
  lstrip?: boolean;
  rstrip?: boolean;
  normalized?: boolean;
  special?: boolean;
}

/** A `Split` / `Replace` pattern: a literal string or an Oniguruma regex. */
export type PatternJson = { String: string } | { Regex: string };

/** Any normalizer / pre-tokenizer / post-processor / decoder node: a `type` tag plus its fields. */
export interface ComponentJson {
  type: string;
  [field: string]: unknown;
}

/** The `model` node; only byte-level BPE is supported. */
export interface BpeModelJson {
  type: 'BPE';
  vocab: Record<string, number>;
  /** Legacy `"a b"` strings (tokenizers < 0.20) or `["a", "b"]` pairs. */
  merges: Array<string | [string, string]>;
  dropout?: number | null;
  unk_token?: string | null;
  continuing_subword_prefix?: string | null;
  end_of_word_suffix?: string | null;
  fuse_unk?: boolean;
  byte_fallback?: boolean;
  ignore_merges?: boolean;
}

/** A whole tokenizer.json. */
export interface TokenizerJson {
  version?: string;
  truncation?: unknown;
  padding?: unknown;
  added_tokens?: AddedTokenJson[];
  normalizer?: ComponentJson | null;
  pre_tokenizer?: ComponentJson | null;
  post_processor?: ComponentJson | null;
  decoder?: ComponentJson | null;
  model: BpeModelJson;
}

/** A token as tokenizer_config.json writes it: a string or a serialized AddedToken. */
export type ConfigToken = string | { content: string; [field: string]: unknown } | null;

/** The tokenizer_config.json fields this layer uses (others pass through to chat templates). */
export interface TokenizerConfigJson {
  add_bos_token?: boolean;
  add_eos_token?: boolean;
  bos_token?: ConfigToken;
  eos_token?: ConfigToken;
  pad_token?: ConfigToken;
  unk_token?: ConfigToken;
  additional_special_tokens?: ConfigToken[];
  clean_up_tokenization_spaces?: boolean;
  chat_template?: string | Array<{ name: string; template: string }>;
  model_max_length?: number;
  tokenizer_class?: string;
  [field: string]: unknown;
}
