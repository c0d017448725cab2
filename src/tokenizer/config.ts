/**
 * What tokenizer_config.json (transformers' side of a tokenizer) adds to tokenizer.json: the named
 * special tokens (bos/eos/pad/unk), whether encoding with special tokens adds BOS/EOS, the chat
 * template(s), and decoding clean-up.
 */
import { check } from './errors.ts';
import type { ConfigToken, TokenizerConfigJson } from './schema.ts';

/** The content of a config token (`"<s>"` or `{"content": "<s>", ...}`), or undefined. */
export function tokenContent(value: ConfigToken | undefined, field: string): string | undefined {
  if (value === null || value === undefined) return undefined;
  if (typeof value === 'string') return value;
  check(typeof value === 'object' && typeof value.content === 'string', `tokenizer_config: '${field}' must be a string or {"content": …}`);
  return value.content;
}

/** The named special tokens, as strings (what chat templates see as `bos_token` etc.). */
export interface SpecialTokensMap {
  bos_token?: string;
  eos_token?: string;
  unk_token?: string;
  pad_token?: string;
  sep_token?: string;
  cls_token?: string;
  mask_token?: string;
  additional_special_tokens?: string[];
}

/** Reads the special tokens map of a config. */
export function specialTokensMap(config: TokenizerConfigJson): SpecialTokensMap {
  const map: SpecialTokensMap = {};
  for (const key of ['bos_token', 'eos_token', 'unk_token', 'pad_token', 'sep_token', 'cls_token', 'mask_token'] as const) {
    const v = tokenContent(config[key] as ConfigToken | undefined, key);
    if (v !== undefined) map[key] = v;
  }
  if (Array.isArray(config.additional_special_tokens)) {
    map.additional_special_tokens = config.additional_special_tokens
      .map((t, k) => tokenContent(t, `additional_special_tokens[${k}]`))
      .filter((t): t is string => t !== undefined);
  }
  return map;
}

/** The chat templates of a config by name (a single string is the template named "default"). */
export function chatTemplates(config: TokenizerConfigJson): Map<string, string> {
  const out = new Map<string, string>();
  const t = config.chat_template;
  if (typeof t === 'string') out.set('default', t);
  else if (Array.isArray(t)) {
    for (const entry of t) {
      check(
        typeof entry?.name === 'string' && typeof entry.template === 'string',
        "tokenizer_config: 'chat_template' entries need 'name' and 'template'",
      );
      out.set(entry.name, entry.template);
    }
  }
  return out;
}

/** transformers' `clean_up_tokenization`: removes spaces before punctuation and English contractions. */
export function cleanUpTokenization(text: string): string {
  return text
    .replaceAll(' .', '.')
    .replaceAll(' ?', '?')
    .replaceAll(' !', '!')
    .replaceAll(' ,', ',')
    .replaceAll(" ' ", "'")
    .replaceAll(" n't", "n't")
    .replaceAll(" 'm", "'m")
    .replaceAll(" 's", "'s")
    .replaceAll(" 've", "'ve")
    .replaceAll(" 're", "'re");
}
