/**
 * Normalizers of tokenizer.json: text → text before pre-tokenization (and the matching of added
 * tokens marked `normalized`). Byte-level BPE tokenizers use few: DeepSeek-V3 an empty Sequence,
 * Qwen2 NFC, Llama-3 none. Offsets are not tracked, so only whole-string transforms are needed.
 */
import { check, TokenizerError } from './errors.ts';
import { compilePattern } from './pattern.ts';
import type { ComponentJson } from './schema.ts';

/** A normalizer: returns the normalized text. */
export type Normalizer = (text: string) => string;

/** Builds the normalizer of a tokenizer.json node; `null` when it does nothing (skipped entirely). */
export function buildNormalizer(node: ComponentJson | null | undefined): Normalizer | null {
  if (node === null || node === undefined) return null;
  check(typeof node.type === 'string', "normalizer: missing 'type'");
  switch (node.type) {
    case 'Sequence': {
      check(Array.isArray(node.normalizers), "normalizer Sequence: 'normalizers' must be an array");
      const parts = (node.normalizers as ComponentJson[]).map(buildNormalizer).filter((n) => n !== null);
      if (parts.length === 0) return null;
      if (parts.length === 1) return parts[0]!;
      return (text) => parts.reduce((t, n) => n(t), text);
    }
    case 'NFC':
    case 'NFD':
    case 'NFKC':
    case 'NFKD': {
      const form = node.type;
      return (text) => text.normalize(form);
    }
    case 'Lowercase':
      return (text) => text.toLowerCase();
    case 'Strip': {
      const left = node.strip_left !== false;
      const right = node.strip_right !== false;
      return (text) => (left && right ? text.trim() : left ? text.trimStart() : right ? text.trimEnd() : text);
    }
    case 'Prepend': {
      check(typeof node.prepend === 'string', "normalizer Prepend: 'prepend' must be a string");
      const prefix = node.prepend;
      return (text) => (text.length > 0 ? prefix + text : text);
    }
    case 'Replace': {
      const re = compilePattern(node.pattern, 'normalizer Replace');
      check(typeof node.content === 'string', "normalizer Replace: 'content' must be a string");
      const content = node.content;
      return (text) => text.replace(re, () => content);
    }
    default:
      throw new TokenizerError(`unsupported normalizer type '${node.type}'`);
  }
}
