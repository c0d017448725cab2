/**
 * Small hand-made tokenizer.json files for unit tests: a byte-level vocabulary (the 256 alphabet
 * characters, ids 0..255 in byte order) plus the tokens made by the given merges, and whatever
 * pipeline pieces a test needs (shaped like Llama-3, Qwen2 or GPT-2 files).
 */
import { BYTE_TO_CHAR, type TokenizerJson } from '../../src/tokenizer/index.ts';
import type { AddedTokenJson, ComponentJson } from '../../src/tokenizer/index.ts';

export interface SyntheticOptions {
  merges?: [string, string][];
  /** Write merges in the legacy "a b" form. */
  legacyMerges?: boolean;
  added?: Array<Partial<AddedTokenJson> & { content: string }>;
  normalizer?: ComponentJson | null;
  preTokenizer?: ComponentJson;
  postProcessor?: ComponentJson | null;
  ignoreMerges?: boolean;
  /** Extra vocabulary entries (no merge makes them). */
  extraTokens?: string[];
}

export const PLAIN_BYTE_LEVEL: ComponentJson = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false };

export function syntheticTokenizer(o: SyntheticOptions = {}): TokenizerJson {
  const vocab: Record<string, number> = Object.create(null);
  BYTE_TO_CHAR.forEach((c, b) => (vocab[c] = b));
  let next = 256;
  for (const [a, b] of o.merges ?? []) if (!(a + b in vocab)) vocab[a + b] = next++;
  for (const t of o.extraTokens ?? []) if (!(t in vocab)) vocab[t] = next++;
  const added = (o.added ?? []).map((t) => ({
    id: next++,
    special: false,
    normalized: true,
    lstrip: false,
    rstrip: false,
    single_word: false,
    ...t,
  }));
  return {
    version: '1.0',
    added_tokens: added,
    normalizer: o.normalizer ?? null,
    pre_tokenizer: o.preTokenizer ?? PLAIN_BYTE_LEVEL,
    post_processor: o.postProcessor ?? null,
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE',
      vocab,
      merges: (o.merges ?? []).map(([a, b]) => (o.legacyMerges ? `${a} ${b}` : [a, b])) as Array<string | [string, string]>,
      ignore_merges: o.ignoreMerges ?? false,
    },
  };
}

/** Llama-3's pre-tokenizer. */
export const LLAMA3_PRE_TOKENIZER: ComponentJson = {
  type: 'Sequence',
  pretokenizers: [
    {
      type: 'Split',
      pattern: {
        Regex:
          "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
      },
      behavior: 'Isolated',
      invert: false,
    },
    PLAIN_BYTE_LEVEL,
  ],
};

/** Qwen2's pre-tokenizer (single digits). */
export const QWEN2_PRE_TOKENIZER: ComponentJson = {
  type: 'Sequence',
  pretokenizers: [
    {
      type: 'Split',
      pattern: {
        Regex:
          "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
      },
      behavior: 'Isolated',
      invert: false,
    },
    PLAIN_BYTE_LEVEL,
  ],
};
